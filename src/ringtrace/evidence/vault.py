"""Content-addressed storage of attachments in the data folder.

A file is named by the SHA-256 of its bytes (``ab/cdef...``), so storing the same evidence
twice keeps one copy and any change to a file is detectable. Writes are atomic: a temporary
file in the same folder is written, flushed to disk and renamed into place, so a crash never
leaves a half-written file under a real name. (Encryption at rest is added by the evidence
vault issue; the interface stays the same.)
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

from ringtrace.errors import NotFound

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class Vault:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, sha256: str) -> Path:
        if not _SHA256.match(sha256):
            raise NotFound(f"no evidence with id {sha256!r}")
        return self.root / sha256[:2] / sha256[2:]

    def put(self, data: bytes) -> str:
        """Store ``data`` and return its SHA-256 (hex)."""
        digest = hashlib.sha256(data).hexdigest()
        target = self._path(digest)
        if target.exists():
            return digest
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        dir_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        return digest

    def get(self, sha256: str) -> bytes:
        path = self._path(sha256)
        try:
            data = path.read_bytes()
        except FileNotFoundError as e:
            raise NotFound(f"no evidence with id {sha256}") from e
        return data

    def exists(self, sha256: str) -> bool:
        return self._path(sha256).exists()
