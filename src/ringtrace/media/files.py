"""Hash whatever file a helpline has: an image (PDQ) or a video (PDQ of 1 fps frames)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from ringtrace.errors import InvalidMedia
from ringtrace.media.pdq import MIN_QUALITY, dihedral_hashes, hash_image
from ringtrace.media.video import hash_video

TAKEDOWN_FORMAT = "ringtrace.takedown/1"
TAKEDOWN_CSV_COLUMNS = (
    "signal_type",
    "signal_value",
    "quality",
    "reference",
    "status",
    "updated_at",
)


def kind_of(path: Path) -> str:
    """``image`` or ``video``, from the file's magic numbers (never its name)."""
    import filetype

    try:
        guess = filetype.guess(str(path))
    except OSError:
        raise InvalidMedia(f"cannot read {path}") from None
    mime = guess.mime if guess else ""
    if mime.startswith("video/") or mime in ("image/gif", "application/x-matroska"):
        return "video" if mime != "image/gif" else "image"
    return "image"


def hash_file(path: Path, *, dihedral: bool = False) -> list[dict[str, Any]]:
    """Rows of ``{"file", "pdq", "quality", ...}``: one for an image (eight with
    ``dihedral``), one per kept frame for a video."""
    if not path.is_file():
        raise InvalidMedia(f"no such file: {path}")
    if kind_of(path) == "video":
        vh = hash_video(path)
        return [
            {"file": str(path), "pdq": f.pdq, "quality": f.quality, "frame_second": f.second,
             "usable": True, "preprocessing": vh.preprocessing}
            for f in vh.frames
        ]  # fmt: skip
    if dihedral:
        return [
            {"file": str(path), "pdq": h.pdq, "quality": h.quality, "transform": name,
             "usable": h.quality >= MIN_QUALITY, "preprocessing": h.preprocessing}
            for name, h in dihedral_hashes(path).items()
        ]  # fmt: skip
    h = hash_image(path)
    return [{"file": str(path), "pdq": h.pdq, "quality": h.quality,
             "usable": h.usable, "preprocessing": h.preprocessing}]  # fmt: skip


def takedown_export(entries: list[dict[str, Any]], fmt: str = "csv") -> str:
    """The takedown list for platforms (docs/media.md): CSV with ``signal_type`` "pdq" as
    ThreatExchange-style hash lists use, or JSON."""
    if fmt == "json":
        return json.dumps(
            {"format": TAKEDOWN_FORMAT, "algorithm": "pdq", "entries": entries}, indent=2
        )
    if fmt != "csv":
        raise InvalidMedia("format must be csv or json")
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(TAKEDOWN_CSV_COLUMNS)
    for e in entries:
        w.writerow(["pdq", e["pdq"], e["quality"] if e["quality"] is not None else "",
                    e["reference"], e["status"], e["updated_at"]])  # fmt: skip
    return buf.getvalue()
