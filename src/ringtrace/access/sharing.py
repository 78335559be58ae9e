"""Apply the sharing rules (access/policy.py) for one viewer over the store."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property
from typing import TYPE_CHECKING, Any

from ringtrace.access.policy import SHAREABLE_TLP, Principal, View, report_view
from ringtrace.domain.models import Cluster, ClusterLink, ReportRef

if TYPE_CHECKING:
    from ringtrace.store.database import Store
    from ringtrace.store.rows import ReportSummary


class Sharing:
    """What one principal may see. Built per request; it reads only the reports it is asked
    about, and the viewer's shared clusters once."""

    def __init__(self, store: Store, principal: Principal) -> None:
        self.store = store
        self.principal = principal
        self._consent: dict[int, bool] = {}
        self._entries: dict[int, tuple[str, str, int | None] | None] = {}
        self._views: dict[int, View] = {}
        self._by_owner: dict[int, bool] = {}

    @cached_property
    def _codes(self) -> set[str]:
        return self.store.accounts.agency_codes()

    def owner(self, source: str) -> str:
        return source if source in self._codes else self.store.home_agency

    def _entry(self, report_id: int) -> tuple[str, str, int | None] | None:
        """(source, tlp, cluster id or None when alone), read on demand and kept."""
        if report_id not in self._entries:
            self.prefetch([report_id])
        return self._entries.get(report_id)

    def seed(self, entries: dict[int, tuple[str, str, int | None]]) -> None:
        """Entries the caller has just read (see ``ClusterRepo.with_ids``)."""
        for rid, entry in entries.items():
            self._entries.setdefault(rid, entry)

    def prefetch(self, report_ids: Iterable[int]) -> None:
        """Read the entries of many reports in one go (before asking ``view`` of each)."""
        missing = [r for r in report_ids if r not in self._entries]
        if missing:
            found = self.store.visibility.report_entries(missing)
            for rid in missing:
                self._entries[rid] = found.get(rid)

    @cached_property
    def own_reports(self) -> set[int]:
        return self.store.visibility.owned_report_ids(self.principal.agency)

    @cached_property
    def shared_clusters(self) -> set[int]:
        return self.store.visibility.shared_cluster_ids(self.principal.agency)

    def _consent_of(self, report_id: int) -> bool:
        if report_id not in self._consent:
            # The row's consent column (store/view_columns.py): no document is opened.
            kept = self.store.reports.views([report_id]).get(report_id)
            self._consent[report_id] = kept is not None and kept.consent_share
        return self._consent[report_id]

    def view(self, report_id: int) -> View:
        if report_id not in self._views:
            self._views[report_id] = self._view(report_id)
        return self._views[report_id]

    def _view(self, report_id: int) -> View:
        entry = self._entry(report_id)
        if entry is None:
            return View.NONE
        source, tlp, cluster = entry
        owner = self.owner(source)
        shared = cluster is not None and cluster in self.shared_clusters
        if owner != self.principal.agency and shared and tlp in SHAREABLE_TLP:
            by_owner = self._shared_by_owner(report_id)
            consent = by_owner and self._consent_of(report_id)
            return report_view(self.principal.agency, owner, tlp, consent, True,
                               shared_by_owner=by_owner)  # fmt: skip
        return report_view(self.principal.agency, owner, tlp, False, shared,
                           shared_by_owner=False)  # fmt: skip

    def _candidate(self, report_id: int) -> bool:
        """Another agency's shareable report in one of the viewer's rings: whether its agency
        shared it with the viewer decides between a hit and the TLP rules."""
        entry = self._entries.get(report_id)
        if entry is None:
            return False
        source, tlp, cluster = entry
        return (
            tlp in SHAREABLE_TLP
            and cluster is not None
            and cluster in self.shared_clusters
            and self.owner(source) != self.principal.agency
        )

    def _shared_by_owner(self, report_id: int) -> bool:
        """Its agency put it into the viewer's ring (it holds a key that a report of the
        viewer's agency held before it arrived) or confirmed the match to the viewer's
        agency. Never because a report of the viewer's joined a ring that held it: that is a
        hit, and what is behind a hit is for the owning agency to give. Asked in batches of
        every report read so far."""
        if report_id not in self._by_owner:
            pending = [r for r in self._entries if r not in self._by_owner and self._candidate(r)]
            if report_id not in pending:
                pending.append(report_id)
            agency = self.principal.agency
            yes = self.store.visibility.reports_brought_in(agency, pending)
            yes |= self.store.visibility.reports_confirmed_to(agency, pending)
            for rid in pending:
                self._by_owner[rid] = rid in yes
        return self._by_owner[report_id]

    def visible_page(self, *, limit: int, offset: int) -> list[ReportSummary]:
        """Summaries of the reports the viewer may know exist (no document is opened to
        decide this), newest first."""
        return self.store.visibility.reports_page(
            self.principal.agency, self.shared_clusters, limit=limit, offset=offset
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

        self.prefetch(ids.values())
        links = [k for lk in cluster.links if (k := keep(lk)) is not None]
        excluded = [k for lk in cluster.excluded if (k := keep(lk)) is not None]
        return Cluster(cluster.id, cluster.reports, links, excluded)

    def owner_of(self, report_id: int) -> str:
        entry = self._entry(report_id)
        if entry is None:
            raise KeyError(report_id)
        return self.owner(entry[0])


def visible_document(sharing: Sharing, report_id: int, document: dict[str, Any]) -> Any:
    from ringtrace.access.policy import redact_document

    return redact_document(document, sharing.view(report_id))
