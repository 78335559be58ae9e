"""Content-addressed, encrypted storage of evidence files in the data folder.

A file is named by the SHA-256 of its plaintext (``ab/cdef...``) and stored sealed with
AES-256-GCM (see :mod:`ringtrace.evidence.keys`); the name is the associated data, so a file
moved under another name fails to open. Storing the same evidence twice keeps one copy.

Writes are atomic: a temporary file in the same folder is written, flushed to disk and
renamed into place, so a crash never leaves a half-written file under a real name; stale
temporary files are swept on the next write or check.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from ringtrace.errors import NotFound
from ringtrace.evidence.keys import KeyRing, TamperedData

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_TMP_PREFIX = ".tmp-"


class Vault:
    def __init__(self, root: Path, keyring: Callable[[], KeyRing]) -> None:
        self.root = root
        self._keyring = keyring  # a loader, so a rotated key file is picked up

    def _path(self, sha256: str) -> Path:
        if not _SHA256.match(sha256):
            raise NotFound(f"no evidence with id {sha256!r}")
        return self.root / sha256[:2] / sha256[2:]

    def _write_atomic(self, target: Path, data: bytes) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=_TMP_PREFIX)
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

    def put(self, data: bytes) -> str:
        """Store ``data`` sealed and return the SHA-256 (hex) of its plaintext."""
        digest = hashlib.sha256(data).hexdigest()
        target = self._path(digest)
        if target.exists():
            return digest
        self._write_atomic(target, self._keyring().seal(data, digest.encode()))
        return digest

    def get(self, sha256: str) -> bytes:
        path = self._path(sha256)
        try:
            sealed = path.read_bytes()
        except FileNotFoundError as e:
            raise NotFound(f"no evidence with id {sha256}") from e
        data = self._keyring().open(sealed, sha256.encode(), what=f"evidence {sha256[:12]}")
        if hashlib.sha256(data).hexdigest() != sha256:  # pragma: no cover - GCM catches this
            raise TamperedData(f"evidence {sha256[:12]}: content does not match its name")
        return data

    def exists(self, sha256: str) -> bool:
        return self._path(sha256).exists()

    def delete(self, sha256: str) -> None:
        self._path(sha256).unlink(missing_ok=True)

    def files(self) -> Iterator[str]:
        if not self.root.exists():
            return
        for sub in sorted(self.root.iterdir()):
            if sub.is_dir() and len(sub.name) == 2:
                for f in sorted(sub.iterdir()):
                    if not f.name.startswith(_TMP_PREFIX):
                        yield sub.name + f.name

    def sweep_temporary(self, older_than_s: float = 60.0) -> int:
        """Remove temporary files left by a writer that died mid-write."""
        if not self.root.exists():
            return 0
        removed = 0
        now = time.time()
        for f in self.root.glob(f"*/{_TMP_PREFIX}*"):
            if now - f.stat().st_mtime >= older_than_s:
                f.unlink(missing_ok=True)
                removed += 1
        return removed

    def check(self) -> list[str]:
        """Problems with stored files: any that fail to open or do not match their name."""
        problems = []
        for sha in self.files():
            try:
                self.get(sha)
            except TamperedData as e:
                problems.append(str(e))
        return problems

    def rotate(self) -> int:
        """Re-seal every file not sealed with the active key. Safe to run while serving:
        each file is replaced atomically and stays readable with either key meanwhile."""
        ring = self._keyring()
        count = 0
        for sha in self.files():
            path = self._path(sha)
            sealed = path.read_bytes()
            if ring.key_id(sealed) == ring.active:
                continue
            data = ring.open(sealed, sha.encode(), what=f"evidence {sha[:12]}")
            self._write_atomic(path, ring.seal(data, sha.encode()))
            count += 1
        return count
