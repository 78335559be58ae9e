"""Appending to and reading the hash-chained audit log (logic in evidence/audit.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from ringtrace.evidence.audit import GENESIS, AuditEntry, canonical, entry_hash
from ringtrace.store.tables import audit_log


def append(
    conn: Connection,
    actor: str,
    action: str,
    subject: str,
    details: dict[str, Any],
    after: AuditEntry | None = None,
) -> AuditEntry:
    """Add one entry. Must run inside the store's write transaction (which serialises
    writers), so sequence numbers and the chain stay in order. ``after``: the last entry,
    when this transaction has just appended it (saves reading it back)."""
    if after is not None:
        last: Any = (after.seq, after.hash)
    else:
        last = conn.execute(
            select(audit_log.c.seq, audit_log.c.hash).order_by(audit_log.c.seq.desc()).limit(1)
        ).first()
    seq = (last[0] + 1) if last else 1
    prev = last[1] if last else GENESIS
    at = datetime.now(UTC).isoformat(timespec="microseconds")
    body = canonical(details)
    digest = entry_hash(seq, at, actor, action, subject, body, prev)
    conn.execute(
        insert(audit_log).values(
            seq=seq,
            at=at,
            actor=actor,
            action=action,
            subject=subject,
            details=body,
            prev_hash=prev,
            hash=digest,
        )
    )
    return AuditEntry(seq, at, actor, action, subject, body, prev, digest)


def entries(conn: Connection, subjects: list[str] | None = None) -> Iterator[AuditEntry]:
    q = select(audit_log).order_by(audit_log.c.seq)
    if subjects is not None:
        q = q.where(audit_log.c.subject.in_(subjects))
    for r in conn.execute(q):
        yield AuditEntry(r.seq, r.at, r.actor, r.action, r.subject, r.details, r.prev_hash, r.hash)
