"""Encryption keys and AES-256-GCM sealing for evidence and personal data.

A key ring holds named 256-bit keys and says which one seals new data; every sealed blob
names the key that sealed it, so old data stays readable while a rotation re-seals it. The
ring comes from a key file that `ringtrace init` creates with owner-only permissions, or from
``RINGTRACE_VAULT_KEY`` (a base64 key, for deployments that inject secrets).

Sealed format: ``b"RTK1" | key id length (1 byte) | key id | 12-byte nonce | ciphertext+tag``.
Associated data binds a blob to what it is for (a vault file to its SHA-256, a report's
document to its reference), so swapping two sealed blobs is detected like any other change.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import stat
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ringtrace.errors import ConfigurationError, RingtraceError

MAGIC = b"RTK1"
PLACEHOLDER_KEYS = frozenset({"", "changeme", "change-me", "secret", "test", "demo", "placeholder"})


class TamperedData(RingtraceError):
    """Sealed data failed authentication: it was changed, swapped or truncated."""

    code = "tampered"
    http_status = 500
    exit_code = 7


@dataclass
class KeyRing:
    active: str
    keys: dict[str, bytes] = field(default_factory=dict)
    # The key of the integrity MACs (report rows, the audit chain, its anchor). Unlike the
    # sealing keys it is never rotated out: a MAC must verify for as long as its row exists.
    integrity: bytes | None = None

    @classmethod
    def generate(cls) -> KeyRing:
        kid = _new_id()
        return cls(
            active=kid,
            keys={kid: AESGCM.generate_key(bit_length=256)},
            integrity=secrets.token_bytes(32),
        )

    def integrity_key(self) -> bytes:
        """The MAC key; a ring from before MACs derives it from its active key (HKDF), the
        same way in every process, and the key file keeps it from then on."""
        if self.integrity is None:
            from cryptography.hazmat.primitives import hashes
            from cryptography.hazmat.primitives.kdf.hkdf import HKDF

            self.integrity = HKDF(
                algorithm=hashes.SHA256(), length=32, salt=None, info=b"ringtrace integrity v1"
            ).derive(self.keys[self.active])
        return self.integrity

    @classmethod
    def from_secret(cls, value: str) -> KeyRing:
        if value.strip().lower() in PLACEHOLDER_KEYS:
            raise ConfigurationError("RINGTRACE_VAULT_KEY is a placeholder; set a real key")
        try:
            key = base64.b64decode(value, validate=True)
        except ValueError as e:
            raise ConfigurationError("RINGTRACE_VAULT_KEY must be base64") from e
        if len(key) != 32:
            raise ConfigurationError("RINGTRACE_VAULT_KEY must decode to 32 bytes (AES-256)")
        return cls(active="env", keys={"env": key})

    # -- the key file -------------------------------------------------------------------

    @classmethod
    def load(cls, path: Path) -> KeyRing:
        try:
            mode = path.stat().st_mode
        except FileNotFoundError as e:
            raise ConfigurationError(f"no key file at {path}: run `ringtrace init`") from e
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ConfigurationError(
                f"key file {path} is readable by others; run `chmod 600 {path}`"
            )
        data = json.loads(path.read_text())
        integrity = data.get("integrity")
        return cls(
            active=data["active"],
            keys={k: base64.b64decode(v) for k, v in data["keys"].items()},
            integrity=base64.b64decode(integrity) if integrity else None,
        )

    def save(self, path: Path) -> None:
        """Write the ring atomically, readable by the owner only."""
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "active": self.active,
            "keys": {k: base64.b64encode(v).decode() for k, v in self.keys.items()},
            "integrity": base64.b64encode(self.integrity_key()).decode(),
        }
        tmp = path.with_name(path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)

    def add_active(self) -> str:
        """Make a new key the one that seals; older keys stay for reading."""
        kid = _new_id()
        self.keys[kid] = AESGCM.generate_key(bit_length=256)
        self.active = kid
        return kid

    def retire_others(self) -> list[str]:
        old = [k for k in self.keys if k != self.active]
        for k in old:
            del self.keys[k]
        return old

    # -- sealing ------------------------------------------------------------------------

    def seal(self, plaintext: bytes, aad: bytes) -> bytes:
        kid = self.active.encode()
        nonce = secrets.token_bytes(12)
        ct = AESGCM(self.keys[self.active]).encrypt(nonce, plaintext, aad)
        return MAGIC + bytes([len(kid)]) + kid + nonce + ct

    def key_id(self, sealed: bytes) -> str:
        if not sealed.startswith(MAGIC) or len(sealed) < 6:
            raise TamperedData("not sealed data (header missing)")
        n = sealed[4]
        return sealed[5 : 5 + n].decode(errors="replace")

    def open(self, sealed: bytes, aad: bytes, *, what: str) -> bytes:
        kid = self.key_id(sealed)
        key = self.keys.get(kid)
        if key is None:
            raise TamperedData(f"{what}: sealed with unknown key {kid!r}")
        start = 5 + sealed[4]
        nonce, ct = sealed[start : start + 12], sealed[start + 12 :]
        try:
            return AESGCM(key).decrypt(nonce, ct, aad)
        except InvalidTag as e:
            raise TamperedData(
                f"{what}: failed authentication (changed, swapped or truncated)"
            ) from e


def _new_id() -> str:
    return secrets.token_hex(4)


def seal_document(ring: KeyRing, plaintext: str, aad: bytes) -> tuple[str, str]:
    """Seal a report's document under a fresh key of its own; return ``(document,
    wrapped_key)`` as text. Destroying the wrapped key erases the document everywhere,
    backups included (crypto-shredding)."""
    dek = AESGCM.generate_key(bit_length=256)
    doc = KeyRing(active="doc", keys={"doc": dek}).seal(plaintext.encode(), aad)
    wrapped = ring.seal(dek, b"dek:" + aad)
    return base64.b64encode(doc).decode(), base64.b64encode(wrapped).decode()


def open_document(ring: KeyRing, document: str, wrapped_key: str, aad: bytes, *, what: str) -> str:
    dek = ring.open(base64.b64decode(wrapped_key), b"dek:" + aad, what=f"{what} (key)")
    data = KeyRing(active="doc", keys={"doc": dek}).open(base64.b64decode(document), aad, what=what)
    return data.decode()


def rewrap(ring: KeyRing, wrapped_key: str, aad: bytes, *, what: str) -> str | None:
    """The document key re-sealed with the active key, or None if it already is."""
    sealed = base64.b64decode(wrapped_key)
    if ring.key_id(sealed) == ring.active:
        return None
    dek = ring.open(sealed, b"dek:" + aad, what=what)
    return base64.b64encode(ring.seal(dek, b"dek:" + aad)).decode()


class KeySource:
    """The key ring of one data folder, reloaded when the key file changes (a rotation by
    another process), so readers never stop during a rotation."""

    def __init__(self, key_file: Path, secret: str | None) -> None:
        self.key_file = key_file
        self.secret = secret
        self._ring: KeyRing | None = None
        self._mtime: float | None = None

    def ensure(self) -> bool:
        """Create the key file if there is none (and no key in the environment)."""
        if self.secret is not None or self.key_file.exists():
            return False
        KeyRing.generate().save(self.key_file)
        return True

    def __call__(self) -> KeyRing:
        if self.secret is not None:
            if self._ring is None:
                self._ring = KeyRing.from_secret(self.secret)
            return self._ring
        try:
            mtime = self.key_file.stat().st_mtime_ns
        except FileNotFoundError as e:
            raise ConfigurationError(f"no key file at {self.key_file}: run `ringtrace init`") from e
        if self._ring is None or mtime != self._mtime:
            ring = KeyRing.load(self.key_file)
            if ring.integrity is None:  # a key file from before integrity MACs: keep it
                ring.save(self.key_file)
                mtime = self.key_file.stat().st_mtime_ns
            self._ring = ring
            self._mtime = mtime
        return self._ring

    def save(self, ring: KeyRing) -> None:
        if self.secret is not None:
            raise ConfigurationError(
                "keys given by RINGTRACE_VAULT_KEY are rotated by whoever sets it"
            )
        ring.save(self.key_file)
        self._ring, self._mtime = None, None
