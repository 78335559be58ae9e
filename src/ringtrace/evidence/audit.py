"""The hash-chained audit log: entries, their hashes and chain verification.

Each entry's hash covers its sequence number, time, actor, action, subject, details and the
previous entry's hash, so editing, deleting, inserting or reordering any entry breaks the
chain at that point. Storage lives in the store; this module is the pure logic.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ringtrace.evidence.integrity import Anchor, entry_mac, same

GENESIS = "0" * 64


def canonical(details: dict[str, Any]) -> str:
    return json.dumps(details, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(
    seq: int, at: str, actor: str, action: str, subject: str, details: str, prev: str
) -> str:
    body = json.dumps([seq, at, actor, action, subject, details, prev], ensure_ascii=False)
    return hashlib.sha256(body.encode()).hexdigest()


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: str
    actor: str
    action: str
    subject: str
    details: str  # canonical JSON, as hashed
    prev_hash: str
    hash: str
    mac: str | None = None  # HMAC of (seq, hash) under the integrity key; None before 0010

    def recomputed(self) -> str:
        return entry_hash(
            self.seq, self.at, self.actor, self.action, self.subject, self.details, self.prev_hash
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq, "at": self.at, "actor": self.actor, "action": self.action,
            "subject": self.subject, "details": json.loads(self.details),
            "prev_hash": self.prev_hash, "hash": self.hash,
        }  # fmt: skip

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> AuditEntry:
        return cls(
            d["seq"], d["at"], d["actor"], d["action"], d["subject"], canonical(d["details"]),
            d["prev_hash"], d["hash"],
        )  # fmt: skip


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    first_bad: int | None = None  # sequence number of the first entry that does not verify
    problem: str | None = None
    head: AuditEntry | None = None


def verify_chain(
    entries: Iterable[AuditEntry], key: bytes | None = None, anchor: Anchor | None = None
) -> ChainReport:
    """Walk the chain in sequence order and name the first entry that breaks it. With the
    integrity ``key``, every entry's MAC must verify too (so the chain cannot be rewritten
    from an edited entry onward), and the chain must reach the ``anchor`` it was last seen
    at (so its newest entries cannot be deleted)."""
    seen: dict[int, str] = {}
    report = _walk(entries, key, anchor.seq if anchor else None, seen)
    if not report.ok or anchor is None or key is None:
        return report
    if not anchor.valid(key):
        return ChainReport(
            False, report.checked, None, "the audit anchor is not valid", report.head
        )
    head = report.head
    if head is None or head.seq < anchor.seq:
        have = head.seq if head else 0
        return ChainReport(
            False, report.checked, have + 1,
            f"the log ends at entry {have} but was anchored at entry {anchor.seq} "
            "(newest entries deleted)",
            head,
        )  # fmt: skip
    if seen.get(anchor.seq) != anchor.hash:
        return ChainReport(
            False, report.checked, anchor.seq,
            f"entry {anchor.seq} is not the one anchored (the log was rewritten)", head,
        )  # fmt: skip
    return report


def _walk(
    entries: Iterable[AuditEntry], key: bytes | None, watch: int | None, seen: dict[int, str]
) -> ChainReport:
    prev_hash, expected_seq, checked = GENESIS, 1, 0
    head = None
    for e in entries:
        if e.seq != expected_seq:
            problem = (
                f"entry {expected_seq} is missing" if e.seq > expected_seq
                else f"entry {e.seq} is out of order"
            )  # fmt: skip
            return ChainReport(False, checked, expected_seq, problem, head)
        if e.prev_hash != prev_hash:
            return ChainReport(
                False, checked, e.seq,
                f"entry {e.seq} does not follow entry {e.seq - 1} (deleted, inserted or reordered)",
                head,
            )  # fmt: skip
        if e.recomputed() != e.hash:
            return ChainReport(False, checked, e.seq, f"entry {e.seq} was changed", head)
        if key is not None and not same(e.mac, entry_mac(key, e.seq, e.hash)):
            return ChainReport(
                False, checked, e.seq,
                f"entry {e.seq} has no valid MAC (rewritten without the integrity key)", head,
            )  # fmt: skip
        prev_hash, expected_seq, checked, head = e.hash, e.seq + 1, checked + 1, e
        if e.seq == watch:
            seen[e.seq] = e.hash
    return ChainReport(True, checked, head=head)


def verify_detached(entries: Iterable[AuditEntry]) -> str | None:
    """Check entries taken out of the chain (a court package holds a subset): each entry's
    own hash must still match its content. Returns the first problem, or None."""
    for e in entries:
        if e.recomputed() != e.hash:
            return f"audit entry {e.seq} was changed"
    return None
