"""Integrity of stored rows: MACs on reports and audit entries, the audit anchor, sealed file
names (the logic is in evidence/integrity.py; this module holds the SQL)."""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Connection, select, update

from ringtrace.evidence.audit import ChainReport, verify_chain
from ringtrace.evidence.integrity import (
    Anchor,
    entry_mac,
    read_anchor,
    report_mac,
    same,
    write_anchor,
)
from ringtrace.evidence.keys import KeyRing, TamperedData
from ringtrace.store import audit_log as audit
from ringtrace.store.tables import attachments, audit_log, reports

log = logging.getLogger(__name__)

REPORT_COLUMNS = (
    reports.c.id, reports.c.source, reports.c.external_id, reports.c.received_at,
    reports.c.country, reports.c.tlp, reports.c.content_sha256, reports.c.document,
    reports.c.document_key, reports.c.withdrawn_at, reports.c.mac, reports.c.consent_share,
    reports.c.urgency_points, reports.c.urgency_crisis, reports.c.urgency_alert,
    reports.c.urgency_reasons,
)  # fmt: skip
SEALED_NAME = "sealed:"
ERASED = "[erased]"


class IntegrityError(TamperedData):
    """A row was changed outside ringtrace: it is not served."""

    code = "integrity"


def check_report(key: bytes, row: object) -> None:
    """Refuse (and log, without the row's data) a report row whose MAC does not verify."""
    if not same(getattr(row, "mac", None), report_mac(key, row)):
        rid = getattr(row, "id", "?")
        log.error("integrity: report %s failed its MAC; not served", rid,
                  extra={"event": "integrity", "report_id": rid})  # fmt: skip
        raise IntegrityError(
            f"report {rid} failed its integrity check (changed outside ringtrace); "
            "run `ringtrace check`"
        )


def reseal_report(conn: Connection, key: bytes, report_id: int) -> None:
    """Recompute a report row's MAC after ringtrace itself changed it (withdrawal, rewrap)."""
    row = conn.execute(select(*REPORT_COLUMNS).where(reports.c.id == report_id)).one()
    conn.execute(update(reports).where(reports.c.id == report_id).values(mac=report_mac(key, row)))


def seal_legacy(conn: Connection, keys: Callable[[], KeyRing]) -> int:
    """Give rows from before integrity MACs theirs, trusting them as they are now, and seal
    file names stored in clear. Returns how many rows changed (0 once done: then the keys
    are not even loaded)."""
    pending = [
        select(reports.c.id).where(reports.c.mac.is_(None)).limit(1),
        select(audit_log.c.seq).where(audit_log.c.mac.is_(None)).limit(1),
        select(attachments.c.id).where(
            ~attachments.c.filename.startswith(SEALED_NAME), attachments.c.filename != ERASED
        ).limit(1),
    ]  # fmt: skip
    if all(conn.execute(q).first() is None for q in pending):
        return 0
    ring = keys()
    key = ring.integrity_key()
    count = 0
    for row in conn.execute(select(*REPORT_COLUMNS).where(reports.c.mac.is_(None))).all():
        conn.execute(update(reports).where(reports.c.id == row.id).values(mac=report_mac(key, row)))
        count += 1
    legacy = conn.execute(
        select(audit_log.c.seq, audit_log.c.hash).where(audit_log.c.mac.is_(None))
    ).all()
    for seq, digest in legacy:
        conn.execute(
            update(audit_log)
            .where(audit_log.c.seq == seq)
            .values(mac=entry_mac(key, int(seq), str(digest)))
        )
        count += 1
    clear = conn.execute(
        select(attachments.c.id, attachments.c.filename, reports.c.source, reports.c.external_id)
        .join(reports, reports.c.id == attachments.c.report_id)
        .where(~attachments.c.filename.startswith(SEALED_NAME), attachments.c.filename != ERASED)
    ).all()
    for a in clear:
        aad = f"report:{a.source}/{a.external_id}".encode()
        conn.execute(
            update(attachments)
            .where(attachments.c.id == a.id)
            .values(filename=seal_name(ring, a.filename, aad))
        )
        count += 1
    return count


def report_problems(conn: Connection, key: bytes) -> list[str]:
    problems = []
    for row in conn.execute(select(*REPORT_COLUMNS).order_by(reports.c.id)):
        if not same(row.mac, report_mac(key, row)):
            problems.append(
                f"report {row.id}: its row was changed outside ringtrace (MAC mismatch)"
            )
    return problems


def verify_audit(conn: Connection, key: bytes, anchor_file: Path) -> ChainReport:
    return verify_chain(audit.entries(conn), key, read_anchor(anchor_file))


def anchor(conn: Connection, key: bytes, anchor_file: Path) -> Anchor | None:
    """Anchor the chain's current head (never moving the anchor backwards)."""
    head = conn.execute(
        select(audit_log.c.seq, audit_log.c.hash).order_by(audit_log.c.seq.desc()).limit(1)
    ).first()
    if head is None:
        return None
    return write_anchor(anchor_file, key, int(head[0]), str(head[1]))


# -- file names ---------------------------------------------------------------------------


def seal_name(ring: KeyRing, name: str, report_aad: bytes) -> str:
    sealed = ring.seal(name.encode(), b"filename:" + report_aad)
    return SEALED_NAME + base64.b64encode(sealed).decode()


def open_name(ring: KeyRing, stored: str, report_aad: bytes) -> str:
    """A file name as sent; names stored before sealing (and "[erased]") are as stored."""
    if not stored.startswith(SEALED_NAME):
        return stored
    sealed = base64.b64decode(stored[len(SEALED_NAME) :])
    return ring.open(sealed, b"filename:" + report_aad, what="a file name").decode()


def reseal_names(conn: Connection, ring: KeyRing) -> int:
    """Seal every file name under the ring's active key (a key rotation)."""
    rows = conn.execute(
        select(attachments.c.id, attachments.c.filename, reports.c.source, reports.c.external_id)
        .join(reports, reports.c.id == attachments.c.report_id)
        .where(attachments.c.filename.startswith(SEALED_NAME))
    ).all()
    count = 0
    for a in rows:
        sealed = base64.b64decode(a.filename[len(SEALED_NAME) :])
        if ring.key_id(sealed) == ring.active:
            continue
        aad = f"report:{a.source}/{a.external_id}".encode()
        name = open_name(ring, a.filename, aad)
        conn.execute(
            update(attachments)
            .where(attachments.c.id == a.id)
            .values(filename=seal_name(ring, name, aad))
        )
        count += 1
    return count
