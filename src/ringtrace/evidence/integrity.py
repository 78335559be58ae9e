"""Keyed integrity for what the server trusts: report rows, the audit chain and its anchor.

The audit chain's hashes are plain SHA-256 so that anyone can check a court package without
our keys; on its own such a chain can be rewritten from an edited entry onward, or cut short.
So each entry also carries an HMAC of its hash under the integrity key (kept with the vault
keys, never in the database), and the head of the chain is *anchored*: its sequence number
and hash, with an HMAC, written to a file beside the keys. Rewriting entries needs the key;
deleting the newest entries leaves the log shorter than its anchor.

A report row's metadata that decides access and meaning (source, reference, dates, country,
TLP, the sealed document and its key, withdrawal, and the consent and urgency kept in clear
for lists) is covered by an HMAC too: an edit made directly in the database is refused when
the row is read and found by ``ringtrace check``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def mac(key: bytes, *parts: object) -> str:
    body = json.dumps([str(p) if p is not None else None for p in parts], ensure_ascii=False)
    return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()


def _utc(value: datetime | str | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def _digest(text: str | None) -> str | None:
    return None if text is None else hashlib.sha256(text.encode()).hexdigest()


def report_mac(key: bytes, row: Any) -> str:
    """The MAC of a ``reports`` row (anything with its columns as attributes or keys)."""

    def get(name: str) -> Any:
        return row[name] if isinstance(row, dict) else getattr(row, name)

    def view(name: str) -> Any:  # absent from rows written before the view columns
        return row.get(name) if isinstance(row, dict) else getattr(row, name, None)

    fields = (
        get("source"), get("external_id"), _utc(get("received_at")), get("country"), get("tlp"),
        get("content_sha256"), _digest(get("document")), _digest(get("document_key")),
        _utc(get("withdrawn_at")),
    )  # fmt: skip
    if view("urgency_points") is None:  # a row whose view columns are not filled yet
        return mac(key, "report/v1", *fields)
    # The view columns decide who reads the document (consent) and what comes first in
    # triage (urgency): an edit to them must be refused like an edit to the TLP.
    return mac(
        key, "report/v2", *fields, bool(view("consent_share")), int(view("urgency_points")),
        bool(view("urgency_crisis")), bool(view("urgency_alert")), view("urgency_reasons"),
    )  # fmt: skip


def same(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and hmac.compare_digest(a, b)


def entry_mac(key: bytes, seq: int, entry_hash: str) -> str:
    return mac(key, "audit/v1", seq, entry_hash)


@dataclass(frozen=True)
class Anchor:
    seq: int
    hash: str
    at: str
    mac: str

    def valid(self, key: bytes) -> bool:
        return same(self.mac, mac(key, "anchor/v1", self.seq, self.hash, self.at))


def read_anchor(path: Path) -> Anchor | None:
    try:
        data = json.loads(path.read_text())
        return Anchor(int(data["seq"]), str(data["hash"]), str(data["at"]), str(data["mac"]))
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError):
        return Anchor(-1, "", "", "")  # unreadable: reported as an invalid anchor


def write_anchor(path: Path, key: bytes, seq: int, entry_hash: str) -> Anchor:
    """Write the anchor atomically (owner-only), never moving it backwards."""
    current = read_anchor(path)
    if current is not None and current.valid(key) and current.seq >= seq:
        return current
    at = datetime.now(UTC).isoformat(timespec="seconds")
    anchor = Anchor(seq, entry_hash, at, mac(key, "anchor/v1", seq, entry_hash, at))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(anchor.__dict__, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return anchor
