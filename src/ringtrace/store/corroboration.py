"""Keys mentioned in passing by unrelated groups of reports become suggested links.

A key whose status says it needs corroboration (:func:`ringtrace.linking.specificity.
uncorroborated_reason`) does not merge clusters. Each cluster that holds it is suggested to
the cluster of its first holder, with a score that falls as more unrelated groups share the
key: 0.5 for three groups, 0.25 for five. An analyst accepts (a merge) or rejects.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import Connection, select

from ringtrace.domain.models import LinkKey
from ringtrace.linking.specificity import GENERIC_PREFIX, UNCORROBORATED
from ringtrace.store.tables import indicators, report_clusters


def uncorroborated_pairs(conn: Connection) -> list[tuple[int, int, float, LinkKey]]:
    """``(report_a, report_b, score, key)`` with ``report_a < report_b`` in different
    clusters, one per cluster holding a key that needs corroboration."""
    rows = conn.execute(
        select(
            indicators.c.type, indicators.c.value, indicators.c.report_id,
            report_clusters.c.cluster_id,
        )
        .select_from(
            indicators.outerjoin(report_clusters, report_clusters.c.report_id == indicators.c.report_id)
        )
        .where(indicators.c.excluded_reason.startswith(GENERIC_PREFIX + UNCORROBORATED))
        .order_by(indicators.c.type, indicators.c.value, indicators.c.report_id)
    ).all()  # fmt: skip
    first_in_cluster: dict[LinkKey, dict[int, int]] = defaultdict(dict)
    for t, v, rid, cid in rows:
        first_in_cluster[LinkKey(t, v)].setdefault(int(cid if cid is not None else rid), int(rid))
    out: list[tuple[int, int, float, LinkKey]] = []
    for key, clusters in first_in_cluster.items():
        reps = sorted(clusters.values())
        if len(reps) < 2:
            continue
        score = round(1.0 / (len(reps) - 1), 3)
        out.extend((reps[0], other, score, key) for other in reps[1:])
    return out
