"""What one agency owns and which clusters it shares (repository; access/sharing.py decides
what that lets a person see)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    ColumnElement,
    Select,
    func,
    or_,
    select,
)

from ringtrace.store import report_shares
from ringtrace.store.rows import (
    ReportSummary,
    utc,
)
from ringtrace.store.tables import (
    report_clusters,
    reports,
)

if TYPE_CHECKING:
    from ringtrace.store.database import Store


class VisibilityRepo:
    def __init__(self, db: Store) -> None:
        self.db = db

    def received_times(self, agency: str) -> list[datetime]:
        """When each of ``agency``'s reports was received (the dashboard's weekly counts)."""
        owned = self.owned_by(agency)
        q = select(reports.c.received_at)
        with self.db.read() as conn:
            return [utc(r[0]) for r in conn.execute(q if owned is None else q.where(owned))]

    def owned_by(self, agency: str) -> ColumnElement[bool] | None:
        """SQL condition: the report belongs to ``agency`` (its source, or the home agency
        for sources that are no agency here; as :meth:`Sharing.owner`). None when that is
        every report: the home agency of an instance with no other agency (no need to
        read the reports table at all)."""
        codes = self.db.accounts.agency_codes()
        if agency == self.db.home_agency:
            # Its own code, or no agency's code: not another agency's code.
            others = sorted(codes - {agency})
            return reports.c.source.not_in(others) if others else None
        return reports.c.source == agency if agency in codes else reports.c.id.is_(None)

    @staticmethod
    def _multi() -> Select[tuple[Any]]:
        return (
            select(report_clusters.c.cluster_id)
            .group_by(report_clusters.c.cluster_id)
            .having(func.count() >= 2)
        )

    def owned_report_ids(self, agency: str) -> set[int]:
        owned = self.owned_by(agency)
        q = select(reports.c.id) if owned is None else select(reports.c.id).where(owned)
        with self.db.read() as conn:
            return {int(r[0]) for r in conn.execute(q)}

    def shared_cluster_ids(self, agency: str) -> set[int]:
        """Clusters of two or more reports that hold at least one of ``agency``'s."""
        owned = self.owned_by(agency)
        if owned is None:  # every report is the agency's: every cluster is
            q = self._multi()
        else:
            q = (
                select(report_clusters.c.cluster_id)
                .join(reports, reports.c.id == report_clusters.c.report_id)
                .where(owned, report_clusters.c.cluster_id.in_(self._multi()))
                .distinct()
            )
        with self.db.read() as conn:
            return {int(r[0]) for r in conn.execute(q)}

    def report_entries(self, ids: Iterable[int]) -> dict[int, tuple[str, str, int | None]]:
        """report id -> (source, tlp, cluster id when in a cluster of two or more)."""
        wanted = sorted({i for i in ids if 0 < i < 2**63})  # no row has another id
        out: dict[int, tuple[str, str, int | None]] = {}
        with self.db.read() as conn:
            for i in range(0, len(wanted), 500):
                chunk = wanted[i : i + 500]
                rows = conn.execute(
                    select(
                        reports.c.id,
                        reports.c.source,
                        reports.c.tlp,
                        report_clusters.c.cluster_id,
                    )
                    .select_from(
                        reports.outerjoin(
                            report_clusters, report_clusters.c.report_id == reports.c.id
                        )
                    )
                    .where(reports.c.id.in_(chunk))
                ).all()
                clusters = {r[3] for r in rows if r[3] is not None}
                multi = (
                    {
                        int(c)
                        for (c,) in conn.execute(
                            self._multi().where(report_clusters.c.cluster_id.in_(sorted(clusters)))
                        )
                    }
                    if clusters
                    else set()
                )
                for r in rows:
                    out[int(r[0])] = (str(r[1]), str(r[2]), int(r[3]) if r[3] in multi else None)
        return out

    def reports_page(
        self, agency: str, shared: set[int], *, limit: int, offset: int
    ) -> list[ReportSummary]:
        """Summaries of the reports ``agency`` may know exist (its own, and every member of
        a cluster it shares), newest first."""
        owned = self.owned_by(agency)
        q = self.db.reports._summaries()
        if owned is not None:
            shared_too = report_clusters.c.cluster_id.in_(sorted(shared))
            q = q.where(or_(owned, shared_too) if shared else owned)
        with self.db.read() as conn:
            return [
                self.db.reports._summary(r) for r in conn.execute(q.limit(limit).offset(offset))
            ]

    def reports_brought_in(self, agency: str, candidates: Sequence[int]) -> set[int]:
        """Other agencies' reports among ``candidates`` that their agency brought into a ring
        of ``agency``'s (store/report_shares.py)."""
        owned = self.owned_by(agency)
        if owned is None or not candidates:
            return set()
        with self.db.read() as conn:
            return report_shares.brought_in(conn, owned, candidates)

    def reports_confirmed_to(self, agency: str, candidates: Sequence[int]) -> set[int]:
        """Other agencies' reports among ``candidates`` whose agency confirmed the match to
        ``agency`` (store/report_shares.py)."""
        if not candidates:
            return set()
        with self.db.read() as conn:
            return report_shares.confirmed_to(conn, agency, candidates)

    def confirm_share(self, cluster_id: int, agency: str, to_agency: str, *, actor: str) -> int:
        """``agency`` shares its reports in ring ``cluster_id`` with ``to_agency`` (a hit
        confirmed); audited. Returns how many were newly shared."""
        owned = self.owned_by(agency)
        with self.db.write() as conn:
            cond = owned if owned is not None else reports.c.id.is_not(None)
            return len(report_shares.confirm(conn, cluster_id, cond, to_agency, actor=actor))
