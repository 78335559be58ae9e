"""APK analyses in the store: queued when a report brings an APK, run in the background
(a limited child process each), and their link keys added to the report's indicators."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Connection,
    select,
    update,
)

from ringtrace.domain.models import Indicator
from ringtrace.intake.received import Received
from ringtrace.store.tables import (
    indicators,
)

if TYPE_CHECKING:
    from ringtrace.store.database import Store


from ringtrace.evidence.filetypes import APK
from ringtrace.store.tables import apk_analyses

MAX_ATTEMPTS = 3


def is_apk(filename: str, detected: str | None) -> bool:
    return detected == APK or filename.lower().endswith(".apk")


def _apks(received: Received) -> Iterator[tuple[int, Any, Any]]:
    """(position, attachment, stored bytes) of each APK the report brought."""
    blobs = {b.position: b for b in received.blobs}
    for pos, att in enumerate(received.doc.attachments):
        blob = blobs.get(pos)
        if blob is not None and is_apk(att.filename, blob.detected_type):
            yield pos, att, blob


def brings_apk(received: Received) -> bool:
    """Whether the report brought an APK to analyse (so the background worker is woken)."""
    return any(True for _ in _apks(received))


def queue_for_report(conn: Connection, report_id: int, received: Received) -> int:
    """Queue an analysis for every APK the report brought (bytes in the vault)."""
    now = datetime.now(UTC)
    queued = 0
    for pos, _att, blob in _apks(received):
        conn.execute(apk_analyses.insert().values(
            # Not the name the victim gave the file (that stays sealed with the attachment).
            report_id=report_id, position=pos, filename=f"attachment-{pos}.apk", sha256=blob.sha256,
            status="queued", attempts=0, created_at=now, updated_at=now,
        ))  # fmt: skip
        queued += 1
    return queued


def pending(conn: Connection) -> list[dict[str, Any]]:
    """Queued analyses, and running ones left behind by a crash (they run again)."""
    rows = conn.execute(
        select(apk_analyses)
        .where(apk_analyses.c.status.in_(["queued", "running"]))
        .order_by(apk_analyses.c.id)
    ).all()
    return [dict(r._mapping) for r in rows]


def claim(conn: Connection, analysis_id: int) -> bool:
    """Mark one analysis as running (False if another worker has it or it is finished)."""
    res = conn.execute(
        update(apk_analyses)
        .where(apk_analyses.c.id == analysis_id, apk_analyses.c.status.in_(["queued", "running"]))
        .values(
            status="running", attempts=apk_analyses.c.attempts + 1, updated_at=datetime.now(UTC)
        )
    )
    return bool(res.rowcount)


def finish(
    conn: Connection,
    analysis_id: int,
    *,
    result: dict[str, Any] | None = None,
    error: tuple[str, str] | None = None,
    retry: bool = False,
) -> None:
    values: dict[str, Any] = {"updated_at": datetime.now(UTC)}
    if result is not None:
        values.update(status="done", result=json.dumps(result, sort_keys=True), error_code=None,
                      error_message=None)  # fmt: skip
    elif error is not None:
        values.update(status="queued" if retry else "failed", error_code=error[0],
                      error_message=error[1])  # fmt: skip
    conn.execute(update(apk_analyses).where(apk_analyses.c.id == analysis_id).values(**values))


def for_report(conn: Connection, report_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(apk_analyses)
        .where(apk_analyses.c.report_id == report_id)
        .order_by(apk_analyses.c.position)
    ).all()
    out = []
    for r in rows:
        d = dict(r._mapping)
        d["result"] = json.loads(d["result"]) if d["result"] else None
        out.append(d)
    return out


def done_keys(conn: Connection, report_id: int) -> list[Indicator]:
    """The link keys of a report's finished analyses (used on insert and by rebuild)."""
    from ringtrace.apk.keys import link_keys

    found: list[Indicator] = []
    for a in for_report(conn, report_id):
        if a["status"] == "done" and a["result"]:
            found += link_keys(a["result"], f"attachments.{a['position']}", a["filename"])
    return found


def new_keys(conn: Connection, report_id: int, found: Sequence[Indicator]) -> list[Indicator]:
    """Those of ``found`` the report does not hold yet."""
    have = {
        (t, v)
        for t, v in conn.execute(
            select(indicators.c.type, indicators.c.value).where(indicators.c.report_id == report_id)
        )
    }
    return [i for i in found if (i.type, i.value) not in have]


class ApkRepo:
    def __init__(self, db: Store) -> None:
        self.db = db

    def pending(self) -> list[dict[str, Any]]:
        with self.db.read() as conn:
            return pending(conn)

    def analyses(self, report_id: int) -> list[dict[str, Any]]:
        with self.db.read() as conn:
            return for_report(conn, report_id)
