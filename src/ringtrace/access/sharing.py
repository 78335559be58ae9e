"""Apply the sharing rules (access/policy.py) for one viewer over the store."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from ringtrace.access.policy import SHAREABLE_TLP, Principal, View, report_view
from ringtrace.domain.models import Cluster, ClusterLink, ReportRef

if TYPE_CHECKING:
    from ringtrace.store.database import Store


class Sharing:
    """What one principal may see. Built per request; it reads the report index once."""

    def __init__(self, store: Store, principal: Principal) -> None:
        self.store = store
        self.principal = principal
        self._consent: dict[int, bool] = {}

    @cached_property
    def _codes(self) -> set[str]:
        return self.store.agency_codes()

    def owner(self, source: str) -> str:
        return source if source in self._codes else self.store.home_agency

    @cached_property
    def _index(self) -> dict[int, tuple[str, str, int | None]]:
        """report id -> (source, tlp, cluster id or None when alone)."""
        return self.store.report_index()

    @cached_property
    def own_reports(self) -> set[int]:
        me = self.principal.agency
        return {rid for rid, (src, _, _) in self._index.items() if self.owner(src) == me}

    @cached_property
    def shared_clusters(self) -> set[int]:
        return {c for rid in self.own_reports if (c := self._index[rid][2]) is not None}

    def _consent_of(self, report_id: int) -> bool:
        if report_id not in self._consent:
            doc = self.store.report(report_id).document
            reporter = doc.get("reporter") if isinstance(doc, dict) else None
            self._consent[report_id] = bool(
                isinstance(reporter, dict) and reporter.get("consent_share") is True
            )
        return self._consent[report_id]

    def view(self, report_id: int) -> View:
        entry = self._index.get(report_id)
        if entry is None:
            return View.NONE
        source, tlp, cluster = entry
        owner = self.owner(source)
        shared = cluster is not None and cluster in self.shared_clusters
        if owner != self.principal.agency and shared and tlp in SHAREABLE_TLP:
            return report_view(self.principal.agency, owner, tlp, self._consent_of(report_id), True)
        return report_view(self.principal.agency, owner, tlp, False, shared)

    def visible_reports(self) -> list[int]:
        """Reports the viewer may know exist (no document is opened to decide this)."""
        me, shared = self.principal.agency, self.shared_clusters
        return sorted(
            rid
            for rid, (source, _, cluster) in self._index.items()
            if self.owner(source) == me or (cluster is not None and cluster in shared)
        )

    def cluster_visible(self, cluster_id: int) -> bool:
        return cluster_id in self.shared_clusters

    def filter_cluster(self, cluster: Cluster, ids: dict[ReportRef, int]) -> Cluster:
        """The cluster as this viewer may see it: every member's existence, but only the keys
        held by members whose indicators are shared with the viewer."""

        def keep(link: ClusterLink) -> ClusterLink | None:
            reports = [r for r in link.reports if self.view(ids[r]) >= View.INDICATORS]
            if not reports:
                return None
            return ClusterLink(link.key, reports, link.excluded_reason)

        links = [k for lk in cluster.links if (k := keep(lk)) is not None]
        excluded = [k for lk in cluster.excluded if (k := keep(lk)) is not None]
        return Cluster(cluster.id, cluster.reports, links, excluded)

    def owner_of(self, report_id: int) -> str:
        return self.owner(self._index[report_id][0])


def visible_document(sharing: Sharing, report_id: int, document: dict[str, Any]) -> Any:
    from ringtrace.access.policy import redact_document

    return redact_document(document, sharing.view(report_id))
