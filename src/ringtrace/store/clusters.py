"""Clusters (repository): ids and sizes, members with their shared keys, overviews, the
chain of keys between two reports."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    func,
    select,
)

from ringtrace.domain.models import Cluster, LinkKey, ReportRef
from ringtrace.errors import (
    NotFound,
)
from ringtrace.linking import KeyRow, assemble_cluster
from ringtrace.store import analyst
from ringtrace.store.rows import (
    utc,
)
from ringtrace.store.tables import (
    indicators,
    report_clusters,
    reports,
)

if TYPE_CHECKING:
    from ringtrace.store.database import Store


class ClusterRepo:
    def __init__(self, db: Store) -> None:
        self.db = db

    def explain(self, a: ReportRef, b: ReportRef) -> list[analyst.Hop] | None:
        with self.db.read() as conn:
            return analyst.explain(conn, self.db.reports.id_of(a), self.db.reports.id_of(b))

    def ring_keys(
        self, cluster_id: int
    ) -> tuple[list[tuple[int, LinkKey]], list[tuple[int, int, str]]]:
        """A ring's linkable (report id, key) rows and every analysts' merge, for previews."""
        with self.db.read() as conn:
            return analyst.ring_key_rows(conn, cluster_id), analyst.merges(conn)

    def assignments(self) -> dict[int, int]:
        with self.db.read() as conn:
            return {
                int(a): int(b)
                for a, b in conn.execute(
                    select(report_clusters.c.report_id, report_clusters.c.cluster_id)
                )
            }

    def ids(self, min_size: int = 2) -> list[tuple[int, int]]:
        """``(cluster_id, size)`` of every cluster with at least ``min_size`` reports,
        largest first."""
        q = (
            select(report_clusters.c.cluster_id, func.count().label("n"))
            .group_by(report_clusters.c.cluster_id)
            .having(func.count() >= min_size)
            .order_by(func.count().desc(), report_clusters.c.cluster_id)
        )
        with self.db.read() as conn:
            return [(int(r[0]), int(r[1])) for r in conn.execute(q)]

    def get(self, cluster_id: int) -> Cluster:
        found = self.many([cluster_id])
        if not found:
            raise NotFound(f"no cluster with id {cluster_id}")
        return found[0]

    def many(self, ids: Sequence[int] | None = None) -> list[Cluster]:
        """Clusters of two or more reports (or the given ones), with their shared keys, in the
        order asked. Two queries per 500 clusters, whatever their size."""
        if ids is None:
            ids = [cid for cid, _ in self.ids()]
        return self.with_ids(ids)[0]

    def with_ids(
        self,
        ids: Sequence[int],
        entries: dict[int, tuple[str, str, int | None]] | None = None,
    ) -> tuple[list[Cluster], dict[ReportRef, int]]:
        """:meth:`clusters`, and the report id of every member (read by the same queries);
        ``entries`` is filled as :meth:`report_entries` would."""
        members: dict[int, dict[int, ReportRef]] = {}
        tlps: dict[int, str] = {}
        rows: dict[int, list[KeyRow]] = {}
        with self.db.read() as conn:
            for i in range(0, len(ids), 500):
                chunk = list(ids[i : i + 500])
                for r in conn.execute(
                    select(
                        report_clusters.c.cluster_id,
                        reports.c.id,
                        reports.c.source,
                        reports.c.external_id,
                        reports.c.tlp,
                    )
                    .join(report_clusters, report_clusters.c.report_id == reports.c.id)
                    .where(report_clusters.c.cluster_id.in_(chunk))
                ).all():
                    members.setdefault(int(r[0]), {})[int(r.id)] = ReportRef(
                        r.source, r.external_id
                    )
                    tlps[int(r.id)] = r.tlp
                for k in conn.execute(
                    select(
                        report_clusters.c.cluster_id,
                        indicators.c.report_id,
                        indicators.c.type,
                        indicators.c.value,
                        indicators.c.excluded_reason,
                    )
                    .join(report_clusters, report_clusters.c.report_id == indicators.c.report_id)
                    .where(report_clusters.c.cluster_id.in_(chunk))
                ).all():
                    rows.setdefault(int(k[0]), []).append(
                        KeyRow(int(k.report_id), LinkKey(k.type, k.value), k.excluded_reason)
                    )
        found = [
            assemble_cluster(cid, members[cid], rows.get(cid, [])) for cid in ids if cid in members
        ]
        if entries is not None:  # what Sharing.view needs of each member, read here anyway
            for cid, m in members.items():
                for rid, ref in m.items():
                    entries[rid] = (ref.source, tlps[rid], cid if len(m) > 1 else None)
        return found, {ref: rid for m in members.values() for rid, ref in m.items()}

    def overview(self, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        """Per cluster: its members' sources and countries, and when the first and the last
        report were received (one aggregate query per 500 clusters)."""
        out: dict[int, dict[str, Any]] = {}
        with self.db.read() as conn:
            for i in range(0, len(ids), 500):
                q = (
                    select(
                        report_clusters.c.cluster_id,
                        reports.c.source,
                        reports.c.country,
                        func.min(reports.c.received_at),
                        func.max(reports.c.received_at),
                    )
                    .join(report_clusters, report_clusters.c.report_id == reports.c.id)
                    .where(report_clusters.c.cluster_id.in_(list(ids[i : i + 500])))
                    .group_by(report_clusters.c.cluster_id, reports.c.source, reports.c.country)
                )
                for cid, source, country, first, last in conn.execute(q):
                    o = out.setdefault(
                        int(cid),
                        {
                            "sources": set(),
                            "countries": set(),
                            "first": utc(first),
                            "last": utc(last),
                        },
                    )
                    o["sources"].add(source)
                    if country:
                        o["countries"].add(country)
                    o["first"] = min(o["first"], utc(first))
                    o["last"] = max(o["last"], utc(last))
        return out

    def members(self) -> dict[int, list[int]]:
        """Every report id grouped by cluster id (singletons included)."""
        out: dict[int, list[int]] = {}
        with self.db.read() as conn:
            for rid, cid in conn.execute(
                select(report_clusters.c.report_id, report_clusters.c.cluster_id)
            ):
                out.setdefault(int(cid), []).append(int(rid))
        return out
