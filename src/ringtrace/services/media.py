"""Hashing media locally and matching it against the store's lure media and takedown list."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ringtrace.errors import RingtraceError

if TYPE_CHECKING:
    from ringtrace.store import Store


@dataclass
class Hashed:
    rows: list[dict[str, Any]] = field(default_factory=list)  # a file's error is a row too
    failed: list[tuple[Path, RingtraceError]] = field(default_factory=list)


def hash_files(files: list[Path], *, dihedral: bool) -> Hashed:
    """PDQ hashes of images (and of video frames, one a second); a file that cannot be hashed
    gives an error row and the others are still hashed."""
    from ringtrace.media.files import hash_file

    out = Hashed()
    for f in files:
        try:
            out.rows.extend(hash_file(f, dihedral=dihedral))
        except RingtraceError as e:
            out.failed.append((f, e))
            out.rows.append({"file": str(f), "error": e.to_dict()})
    return out


def match_items(store: Store, items: list[str], threshold: int) -> list[dict[str, Any]] | None:
    """Each usable hash of these files or PDQ strings with the stored media within
    ``threshold``; None when no item gave a usable hash."""
    from ringtrace.media.files import hash_file
    from ringtrace.media.pdq import parse_pdq

    queries: list[tuple[str, str]] = []
    for item in items:
        if Path(item).is_file():
            queries += [(item, r["pdq"]) for r in hash_file(Path(item)) if r["usable"]]
        else:
            queries.append((item, parse_pdq(item)))
    if not queries:
        return None
    found = store.media.match([q for _, q in queries], threshold)
    return [{"query": n, "pdq": q, "matches": m} for (n, q), m in zip(queries, found, strict=True)]
