"""PDQ hashes of images, after one fixed preprocessing.

Preprocessing ``exif-rgb-thumb512/v1`` (recorded with every hash, docs/media.md):
1. decode with Pillow (decompression-bomb guard on), apply the EXIF orientation;
2. convert to RGB (alpha dropped, palettes expanded);
3. downscale with ``Image.thumbnail((512, 512))`` so the longer side is at most 512 pixels
   (Meta's reference test does the same; it is what makes Meta's published hashes reproduce
   exactly);
4. hash with ``pdqhash`` (Meta's C++ PDQ): 256 bits and a quality from 0 to 100.

Hashes are written as 64 hex digits, most significant bit first (PDQ's own hex form). A hash
whose quality is below :data:`MIN_QUALITY` is too flat to match on and is discarded by callers.
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ringtrace.errors import InvalidMedia

PREPROCESSING = "exif-rgb-thumb512/v1"
MIN_QUALITY = 50
DEFAULT_THRESHOLD = 31
MAX_SIDE = 512
# Decoding a larger image is refused (a decompression bomb, or simply not a photo).
MAX_PIXELS = 64_000_000

_HEX = re.compile(r"^[0-9a-f]{64}$")
_DIHEDRAL = (
    "original",
    "rotate90",
    "rotate180",
    "rotate270",
    "flipx",
    "flipy",
    "flipplus1",
    "flipminus1",
)


@dataclass(frozen=True)
class ImageHash:
    pdq: str
    quality: int
    preprocessing: str = PREPROCESSING
    width: int | None = None
    height: int | None = None

    @property
    def usable(self) -> bool:
        return self.quality >= MIN_QUALITY

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_pdq(value: str) -> str:
    """Validate and normalise a PDQ hash written as 64 hex digits."""
    v = value.strip().lower()
    if not _HEX.match(v):
        raise InvalidMedia("a PDQ hash is 64 hexadecimal digits")
    return v


def bits_to_hex(bits: np.ndarray) -> str:
    """pdqhash's 256-element 0/1 vector (most significant bit first) as 64 hex digits."""
    return np.packbits(bits.astype(np.uint8)).tobytes().hex()


def hamming(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


def load_rgb(source: bytes | Path | str) -> Any:
    """Decode an image and apply steps 1-3 of the preprocessing; returns a Pillow image."""
    from PIL import Image, ImageOps

    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            opened = Image.open(io.BytesIO(source) if isinstance(source, bytes) else source)
            opened.load()
            img = ImageOps.exif_transpose(opened).convert("RGB")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise InvalidMedia(f"image too large to hash safely ({e})") from None
    except FileNotFoundError:
        raise InvalidMedia(f"no such file: {source!s}") from None
    except (OSError, SyntaxError, ValueError) as e:
        raise InvalidMedia(f"not a readable image ({type(e).__name__})") from None
    img.thumbnail((MAX_SIDE, MAX_SIDE))
    return img


def hash_rgb(pixels: np.ndarray) -> tuple[str, int]:
    import pdqhash

    bits, quality = pdqhash.compute(np.ascontiguousarray(pixels, dtype=np.uint8))
    return bits_to_hex(bits), int(quality)


def hash_image(source: bytes | Path | str) -> ImageHash:
    """PDQ hash of one image file or its bytes, after the fixed preprocessing."""
    img = load_rgb(source)
    pdq, quality = hash_rgb(np.asarray(img))
    return ImageHash(pdq, quality, PREPROCESSING, img.width, img.height)


def dihedral_hashes(source: bytes | Path | str) -> dict[str, ImageHash]:
    """The hashes of the image's eight rotations and flips, computed in one pass."""
    import pdqhash

    img = load_rgb(source)
    hashes, quality = pdqhash.compute_dihedral(np.ascontiguousarray(np.asarray(img)))
    return {
        name: ImageHash(bits_to_hex(bits), int(quality), PREPROCESSING, img.width, img.height)
        for name, bits in zip(_DIHEDRAL, hashes, strict=True)
    }
