"""What every list needs from a report's document, kept in clear columns of its row.

The triage queue sorts an agency's reports by urgency, and the sharing rules ask whether the
reporter consented to sharing. Both used to open (decrypt and parse) every document on each
request. The document alone decides the consent and part of the urgency (age, self-harm,
deadlines), so those are worked out once, when the report is stored, and kept in
``reports``: ``consent_share``, ``urgency_points``, ``urgency_crisis``, ``urgency_alert``
and ``urgency_reasons`` (a JSON list of the reasons in words). What changes later (the ring,
the days since) is added when the list is read (triage/urgency.py, ``in_context``).

The row MAC covers these columns (evidence/integrity.py, ``report/v2``): they decide who may
read a document and what an analyst reads first. Rows stored before migration 0013 are
filled by :func:`fill`, which ``Store.migrate`` runs with the vault keys.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select, update

from ringtrace.domain.models import ReportRef
from ringtrace.evidence.integrity import report_mac, same
from ringtrace.evidence.keys import KeyRing, open_document
from ringtrace.store.integrity import REPORT_COLUMNS, check_report
from ringtrace.store.tables import report_clusters, reports
from ringtrace.triage.urgency import Urgency, from_document

log = logging.getLogger(__name__)

# A withdrawn report keeps no urgency: its reasons quoted the reporter's words.
ERASED: dict[str, Any] = {
    "urgency_points": 0, "urgency_crisis": False, "urgency_alert": False, "urgency_reasons": "[]",
}  # fmt: skip
_CHUNK = 500


def derive(document: dict[str, Any]) -> dict[str, Any]:
    """The view columns' values for a document (as stored, parsed)."""
    reporter = document.get("reporter")
    consent = isinstance(reporter, dict) and reporter.get("consent_share") is True
    u = from_document(document)
    return {
        "consent_share": consent, "urgency_points": u.score, "urgency_crisis": u.crisis,
        "urgency_alert": u.alert, "urgency_reasons": json.dumps(u.reasons, ensure_ascii=False),
    }  # fmt: skip


def derive_text(stored_text: str) -> dict[str, Any]:
    document = json.loads(stored_text)
    return derive(document if isinstance(document, dict) else {})


@dataclass(frozen=True)
class ReportView:
    """One report as a list shows it, without its document."""

    id: int
    ref: ReportRef
    received_at: datetime
    country: str | None
    tlp: str
    cluster_id: int | None
    withdrawn: bool
    consent_share: bool
    urgency: Urgency  # the document's part only; see triage.urgency.in_context


def _utc(dt: datetime) -> datetime:
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def _view(row: Any) -> ReportView:
    return ReportView(
        id=int(row.id), ref=ReportRef(row.source, row.external_id),
        received_at=_utc(row.received_at), country=row.country, tlp=row.tlp,
        cluster_id=row.cluster_id, withdrawn=row.withdrawn_at is not None,
        consent_share=bool(row.consent_share),
        urgency=Urgency(int(row.urgency_points), json.loads(row.urgency_reasons),
                        bool(row.urgency_crisis), bool(row.urgency_alert)),
    )  # fmt: skip


def read(
    conn: Connection, key: bytes, ids: Iterable[int], keys: Callable[[], KeyRing]
) -> dict[int, ReportView]:
    """The views of these reports (those that exist), each row's MAC checked as
    ``Store.report`` does; no document is opened, unless a row was not filled yet."""
    wanted = sorted({i for i in ids if 0 < i < 2**63})
    out: dict[int, ReportView] = {}
    for i in range(0, len(wanted), _CHUNK):
        rows = conn.execute(
            select(*REPORT_COLUMNS, report_clusters.c.cluster_id)
            .outerjoin(report_clusters, report_clusters.c.report_id == reports.c.id)
            .where(reports.c.id.in_(wanted[i : i + _CHUNK]))
        ).all()
        for row in rows:
            check_report(key, row)
            if row.urgency_points is None:  # stored before 0013 and not filled yet
                out[int(row.id)] = _view(_Filled(row, _values(row, keys)))
            else:
                out[int(row.id)] = _view(row)
    return out


class _Filled:
    """A row with its view columns worked out from the document (not written back)."""

    def __init__(self, row: Any, values: dict[str, Any]) -> None:
        self._row, self._values = row, values

    def __getattr__(self, name: str) -> Any:
        return self._values[name] if name in self._values else getattr(self._row, name)


def _values(row: Any, keys: Callable[[], KeyRing]) -> dict[str, Any]:
    if row.withdrawn_at is not None:  # the residue holds no consent and no words
        return {"consent_share": False, **ERASED}
    aad = f"report:{row.source}/{row.external_id}".encode()
    text = open_document(keys(), row.document, row.document_key, aad, what=f"report {row.id}")
    return derive_text(text)


def fill(conn: Connection, keys: Callable[[], KeyRing]) -> int:
    """Fill the view columns of rows stored before migration 0013 (and recompute their
    MAC). A row whose MAC does not verify is left as it is, for `ringtrace check` to name:
    its document is not trusted to decide anything. Returns how many rows were filled."""
    pending = select(reports.c.id).where(reports.c.urgency_points.is_(None))
    if conn.execute(pending.limit(1)).first() is None:
        return 0
    key = keys().integrity_key()
    filled = 0
    rows = conn.execute(select(*REPORT_COLUMNS).where(reports.c.urgency_points.is_(None))).all()
    for row in rows:
        if not same(row.mac, report_mac(key, row)):
            log.error("integrity: report %s failed its MAC; view columns not filled", row.id,
                      extra={"event": "integrity", "report_id": row.id})  # fmt: skip
            continue
        values = _values(row, keys)
        new = {**row._asdict(), **values}
        values["mac"] = report_mac(key, new)
        conn.execute(update(reports).where(reports.c.id == row.id).values(**values))
        filled += 1
    return filled
