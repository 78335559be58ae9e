"""Assembling a cluster's explanation: which keys hold it together, and why each report is in it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from ringtrace.domain.models import Cluster, ClusterLink, LinkKey, ReportRef


@dataclass(frozen=True)
class KeyRow:
    report_id: int
    key: LinkKey
    excluded_reason: str | None


def assemble_cluster(
    cluster_id: int, members: dict[int, ReportRef], rows: Iterable[KeyRow]
) -> Cluster:
    """A cluster with every key shared by two or more of its reports.

    Shared excluded keys (a platform domain every report mentions) are listed separately so
    an analyst sees what was deliberately not used.
    """
    holders: dict[LinkKey, set[int]] = defaultdict(set)
    reasons: dict[LinkKey, str | None] = {}
    for row in rows:
        if row.report_id in members:
            holders[row.key].add(row.report_id)
            reasons[row.key] = row.excluded_reason
    links: list[ClusterLink] = []
    excluded: list[ClusterLink] = []
    for key in sorted(holders, key=lambda k: (-len(holders[k]), k)):
        ids = sorted(holders[key])
        if len(ids) < 2:
            continue
        link = ClusterLink(key, [members[i] for i in ids], reasons[key])
        (excluded if reasons[key] else links).append(link)
    reports = [members[i] for i in sorted(members)]
    return Cluster(cluster_id, reports, links, excluded)


def reasons_for(cluster: Cluster) -> dict[ReportRef, list[LinkKey]]:
    """For each report, the linking keys it shares with other reports of its cluster."""
    out: dict[ReportRef, list[LinkKey]] = {r: [] for r in cluster.reports}
    for link in cluster.links:
        for r in link.reports:
            out[r].append(link.key)
    return out
