"""The online linker: a new report joins every cluster that shares one of its link keys.

Clusters are the connected components of the graph whose nodes are reports and whose edges
are shared linkable keys. A cluster is named by its smallest report id; when a report bridges
several clusters they merge into the one with the smallest id. Because ids only grow, the
result does not depend on the order of merges, and a rebuild or a batch run names every
cluster the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from ringtrace.domain.models import LinkKey


class ComponentStore(Protocol):
    """What the linker needs from storage. Called inside one transaction holding the
    store's link lock, so concurrent arrivals cannot split a component."""

    def clusters_sharing(self, keys: Sequence[LinkKey], exclude: int) -> set[int]:
        """The clusters of the placed reports, other than ``exclude``, holding one of
        ``keys`` as a linkable key."""
        ...

    def move_clusters(self, from_ids: set[int], to_id: int) -> None: ...

    def assign(self, report_id: int, cluster_id: int) -> None: ...


def link_report(store: ComponentStore, report_id: int, keys: Sequence[LinkKey]) -> int:
    """Place ``report_id`` (whose linkable keys are ``keys``) and return its cluster id."""
    clusters = store.clusters_sharing(keys, exclude=report_id) if keys else set()
    return place(store, report_id, clusters)


def place(store: ComponentStore, report_id: int, clusters: set[int]) -> int:
    """Put ``report_id`` into the union of ``clusters`` (the clusters it links to), named by
    the smallest id; returns that id."""
    target = min(clusters | {report_id})
    if len(clusters - {target}) > 0:
        store.move_clusters(clusters - {target}, target)
    store.assign(report_id, target)
    return target
