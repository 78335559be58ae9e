"""What a reporter does later with their follow-up code: send an addition to their report.

An addition is a report of its own (``<reference>-A<n>``) tied to the report it follows up
by an audited merge. It is stored, linked, merged and counted in one transaction: a crash
leaves either all of it or none, so withdrawal (which erases every counted addition) never
misses one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Connection

from ringtrace.domain.models import ReportRef
from ringtrace.services import decisions, intake
from ringtrace.store import followups as followup_rows
from ringtrace.store.rows import AddResult

if TYPE_CHECKING:
    from ringtrace.intake.received import Received
    from ringtrace.store.database import Store

ADDITION_REASON = "an addition sent by the reporter with the follow-up code"


def addition_ref(report: ReportRef, n: int) -> ReportRef:
    """The reference of a report's ``n``-th addition."""
    return ReportRef(report.source, f"{report.external_id}-A{n}")


def add(
    store: Store, report: ReportRef, report_id: int, received: Received, actor: str
) -> AddResult:
    """Store ``received`` as an addition to ``report`` (id ``report_id``), in one transaction."""
    addition = ReportRef(received.doc.source, received.doc.external_id)

    def tie(conn: Connection, addition_id: int) -> None:
        decisions.merge_in(conn, (report, report_id), (addition, addition_id),
                           reason=ADDITION_REASON, actor=actor)  # fmt: skip
        followup_rows.count_addition(conn, report_id)

    return intake.ingest(store, received, actor, then=tie)
