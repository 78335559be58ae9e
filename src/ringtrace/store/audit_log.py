"""Appending to and reading the hash-chained audit log (logic in evidence/audit.py)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Connection,
    insert,
    select,
)

from ringtrace.evidence.audit import AuditEntry, ChainReport
from ringtrace.store import integrity

if TYPE_CHECKING:
    from ringtrace.store.database import Store


from ringtrace.evidence.audit import GENESIS, canonical, entry_hash
from ringtrace.evidence.integrity import entry_mac
from ringtrace.store.tables import audit_log

INTEGRITY_KEY = "ringtrace.integrity_key"


def integrity_key(conn: Connection) -> bytes | None:
    """The integrity key the store attached to this connection (``Store.read``), if any."""
    loader = conn.info.get(INTEGRITY_KEY)
    return loader() if loader is not None else None


def append(
    conn: Connection, actor: str, action: str, subject: str, details: dict[str, Any]
) -> AuditEntry:
    """Add one entry. Must run inside the store's write transaction (which serialises
    writers), so sequence numbers and the chain stay in order."""
    return append_many(conn, [(actor, action, subject, details)])[0]


def append_many(
    conn: Connection, items: Sequence[tuple[str, str, str, dict[str, Any]]]
) -> list[AuditEntry]:
    """Add entries ``(actor, action, subject, details)`` in order: the chain is worked out
    here and written in one statement. Same transaction rule as :func:`append`."""
    if not items:
        return []
    last = conn.execute(
        select(audit_log.c.seq, audit_log.c.hash).order_by(audit_log.c.seq.desc()).limit(1)
    ).first()
    seq = int(last[0]) if last else 0
    prev = str(last[1]) if last else GENESIS
    key = integrity_key(conn)
    out = []
    for actor, action, subject, details in items:
        seq += 1
        at = datetime.now(UTC).isoformat(timespec="microseconds")
        body = canonical(details)
        digest = entry_hash(seq, at, actor, action, subject, body, prev)
        tag = entry_mac(key, seq, digest) if key is not None else None
        out.append(AuditEntry(seq, at, actor, action, subject, body, prev, digest, tag))
        prev = digest
    conn.execute(
        insert(audit_log),
        [
            {"seq": e.seq, "at": e.at, "actor": e.actor, "action": e.action,
             "subject": e.subject, "details": e.details, "prev_hash": e.prev_hash,
             "hash": e.hash, "mac": e.mac}
            for e in out
        ],
    )  # fmt: skip
    return out


def entries(conn: Connection, subjects: list[str] | None = None) -> Iterator[AuditEntry]:
    q = select(audit_log).order_by(audit_log.c.seq)
    if subjects is not None:
        q = q.where(audit_log.c.subject.in_(subjects))
    for r in conn.execute(q):
        yield AuditEntry(
            r.seq, r.at, r.actor, r.action, r.subject, r.details, r.prev_hash, r.hash, r.mac
        )


class AuditRepo:
    def __init__(self, db: Store) -> None:
        self.db = db

    def record(
        self, action: str, subject: str, details: dict[str, Any], actor: str | None = None
    ) -> AuditEntry:
        """Add an audit entry for something done outside the store (an export, a view)."""
        with self.db.write() as conn:
            return append(conn, actor or self.db.actor, action, subject, details)

    def entries(self, subjects: list[str] | None = None) -> list[AuditEntry]:
        with self.db.read() as conn:
            return list(entries(conn, subjects))

    def verify(self) -> ChainReport:
        """The chain, its MACs and its anchor (evidence/integrity.py)."""
        with self.db.read() as conn:
            return integrity.verify_audit(conn, self.db.integrity_key(), self.db.anchor_file)
