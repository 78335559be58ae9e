"""Video hashing in the way vPDQ does it: PDQ of frames sampled once a second, compared as
bags of frames.

Frames are decoded with PyAV (FFmpeg's libraries, wheels on PyPI). One frame is taken per
second of presentation time; each gets the image preprocessing of :mod:`ringtrace.media.pdq`
(RGB, longer side at most 512 pixels) and a PDQ hash. Frames with quality below
:data:`~ringtrace.media.pdq.MIN_QUALITY` (fades, black frames, title cards) are dropped, and so
are frames within :data:`DUPLICATE_DISTANCE` bits of the last kept frame, so a static scene
counts once. (vPDQ drops exact repeats; an encoder's key frame and the predicted frames after
it differ by up to ~16 bits on a scene that does not change, measured on test videos.)

Two videos are compared as vPDQ compares them: the share of the query's unique frames that
have a match (Hamming distance at most the threshold) among the other video's frames, and the
other way round. They match when the query share reaches ``query_pct`` (default 80) and the
other share reaches ``compared_pct`` (default 0), vPDQ's defaults.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ringtrace.errors import InvalidMedia
from ringtrace.media.pdq import (
    DEFAULT_THRESHOLD,
    MAX_SIDE,
    MIN_QUALITY,
    PREPROCESSING,
    hamming,
    hash_rgb,
)

# Longer videos are cut off here: an hour at 1 fps is 3,600 frames.
MAX_SECONDS = 3600
# A sampled frame this close to the last kept one is the same shot.
DUPLICATE_DISTANCE = 16


@dataclass(frozen=True)
class FrameHash:
    second: float
    pdq: str
    quality: int


@dataclass
class VideoHash:
    frames: list[FrameHash] = field(default_factory=list)
    duration: float | None = None
    sampled: int = 0
    preprocessing: str = PREPROCESSING + "+1fps"

    def to_dict(self) -> dict[str, Any]:
        return {
            "preprocessing": self.preprocessing,
            "duration": self.duration,
            "sampled": self.sampled,
            "frames": [f.__dict__ for f in self.frames],
        }


def hash_video(path: Path | str, *, max_seconds: int = MAX_SECONDS) -> VideoHash:
    """Sample one frame a second, hash each, drop low-quality and duplicate frames."""
    import av

    out = VideoHash()
    last: str | None = None
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise InvalidMedia("the file has no video stream")
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            if stream.duration is not None and stream.time_base is not None:
                out.duration = float(stream.duration * stream.time_base)
            next_second = 0.0
            for frame in container.decode(stream):
                if frame.time is None or frame.time + 1e-6 < next_second:
                    continue
                if frame.time > max_seconds:
                    break
                img = frame.to_image()  # type: ignore[no-untyped-call]
                img.thumbnail((MAX_SIDE, MAX_SIDE))
                pdq, quality = hash_rgb(np.asarray(img.convert("RGB")))
                out.sampled += 1
                second = round(float(frame.time), 3)
                next_second = float(np.floor(frame.time)) + 1.0
                if quality < MIN_QUALITY:
                    continue
                if last is not None and hamming(pdq, last) <= DUPLICATE_DISTANCE:
                    continue
                last = pdq
                out.frames.append(FrameHash(second, pdq, quality))
    except FileNotFoundError:
        raise InvalidMedia(f"no such file: {path}") from None
    except av.error.FFmpegError as e:
        raise InvalidMedia(f"not a readable video ({type(e).__name__})") from None
    if out.sampled == 0:
        raise InvalidMedia("no frame could be decoded")
    return out


def _as_bits(hashes: list[str]) -> np.ndarray:
    if not hashes:
        return np.zeros((0, 32), dtype=np.uint8)
    return np.frombuffer(bytes.fromhex("".join(hashes)), dtype=np.uint8).reshape(-1, 32)


@dataclass(frozen=True)
class VideoComparison:
    query_pct: float
    compared_pct: float

    def matches(self, query_pct: float = 80.0, compared_pct: float = 0.0) -> bool:
        return self.query_pct >= query_pct and self.compared_pct >= compared_pct


def compare_videos(
    query: VideoHash, compared: VideoHash, threshold: int = DEFAULT_THRESHOLD
) -> VideoComparison:
    """vPDQ's comparison: the share of each side's unique frames matched by the other side."""
    q = _as_bits(sorted({f.pdq for f in query.frames}))
    c = _as_bits(sorted({f.pdq for f in compared.frames}))
    if len(q) == 0 or len(c) == 0:
        return VideoComparison(0.0, 0.0)
    dist = np.bitwise_count(q[:, None, :] ^ c[None, :, :]).sum(axis=2)
    close = dist <= threshold
    return VideoComparison(
        round(100.0 * float(close.any(axis=1).mean()), 2),
        round(100.0 * float(close.any(axis=0).mean()), 2),
    )
