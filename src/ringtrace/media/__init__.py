"""Perceptual hashes of images and videos (PDQ, vPDQ-style bags of frames), and an index to
match them. Only hashes are kept: the images themselves are never stored by this package."""

from ringtrace.media.pdq import (
    DEFAULT_THRESHOLD,
    MIN_QUALITY,
    PREPROCESSING,
    ImageHash,
    dihedral_hashes,
    hamming,
    hash_image,
    parse_pdq,
)

__all__ = [
    "DEFAULT_THRESHOLD",
    "MIN_QUALITY",
    "PREPROCESSING",
    "ImageHash",
    "dihedral_hashes",
    "hamming",
    "hash_image",
    "parse_pdq",
]
