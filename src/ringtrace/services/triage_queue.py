"""An agency's triage queue: its reports, most urgent first, with the reasons."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ringtrace.store.database import Store
from ringtrace.triage.urgency import in_context


def queue(
    store: Store, own_reports: set[int], *, include_done: bool = False, now: datetime | None = None
) -> list[dict[str, Any]]:
    """An agency's reports, most urgent first, with the reasons and their triage state.

    It reads the columns each report keeps for lists (store/view_columns.py: the document's
    urgency), so it opens no document."""
    from ringtrace.store import triage as triage_store

    with store.read() as conn:
        state = triage_store.states(conn)
    views = store.reports.views(own_reports)
    sizes = dict(store.clusters.ids(min_size=2))
    out = []
    for rid in sorted(views):
        v = views[rid]
        status, assignee = state.get(rid, ("new", None))
        if v.withdrawn or (status in ("done", "referred") and not include_done):
            continue
        in_ring = v.cluster_id in sizes
        u = in_context(v.urgency, in_ring=in_ring, received_at=v.received_at, now=now)
        out.append(
            {
                "id": rid,
                "ref": v.ref,
                "received_at": v.received_at,
                "country": v.country,
                "cluster_id": v.cluster_id if in_ring else None,
                "cluster_size": sizes.get(v.cluster_id, 1) if v.cluster_id is not None else 1,
                "score": u.score,
                "reasons": u.reasons,
                "crisis": u.crisis,
                "alert": u.alert,
                "status": status,
                "assignee": assignee,
            }
        )
    out.sort(key=urgency_order)
    return out


def urgency_order(r: dict[str, Any]) -> tuple[bool, int, float, int]:
    # Under 18 or self-harm first, whatever else scores: a person may be in danger.
    return (not r["crisis"], -int(r["score"]), -float(r["received_at"].timestamp()), int(r["id"]))
