"""`ringtrace check`: report rows, the audit chain and its anchor, and the evidence files."""

from __future__ import annotations

from sqlalchemy import (
    select,
)

from ringtrace.store import integrity
from ringtrace.store.database import Store
from ringtrace.store.tables import (
    attachments,
)


def check_evidence(store: Store) -> list[str]:
    """Every integrity problem of the stored evidence: files that fail to open or do not
    match their name, and files the database lists that are gone."""
    store.vault.sweep_temporary()
    problems = store.vault.check()
    with store.read() as conn:
        rows = conn.execute(
            select(attachments.c.report_id, attachments.c.position, attachments.c.sha256).where(
                attachments.c.stored.is_(True)
            )
        ).all()
    for rid, pos, sha in rows:
        if sha and not store.vault.exists(sha):
            problems.append(f"report {rid} attachment {pos}: evidence {sha[:12]} is missing")
    return problems


def check(store: Store) -> list[str]:
    """Every integrity problem in the store: report rows changed outside ringtrace, the
    audit chain (edited, rewritten or cut short), and the evidence files. Anchors the
    chain's head afterwards when it verified."""
    with store.read() as conn:
        problems = integrity.report_problems(conn, store.integrity_key())
    chain = store.audit.verify()
    if not chain.ok:
        problems.append(f"audit log: {chain.problem}")
    problems += check_evidence(store)
    if chain.ok:
        with store.read() as conn:
            store.maybe_anchor(conn, force=True)
    return problems
