"""An agency's triage queue: its reports, most urgent first, with the reasons."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ringtrace.store.database import Store


def queue(
    store: Store, own_reports: set[int], *, include_done: bool = False, now: datetime | None = None
) -> list[dict[str, Any]]:
    """An agency's reports, most urgent first, with the reasons and their triage state."""
    from ringtrace.store import triage as triage_store
    from ringtrace.triage.urgency import assess

    with store.read() as conn:
        state = triage_store.states(conn)
    sizes = dict(store.clusters.ids(min_size=2))
    out = []
    for rid in sorted(own_reports):
        status, assignee = state.get(rid, ("new", None))
        if status in ("done", "referred") and not include_done:
            continue
        d = store.reports.get(rid)
        if d.withdrawn:
            continue
        s = d.summary
        in_ring = s.cluster_size > 1 and s.cluster_id in sizes
        u = assess(d.document, in_ring=in_ring, received_at=s.received_at, now=now)
        out.append(
            {
                "id": rid,
                "ref": s.ref,
                "received_at": s.received_at,
                "country": s.country,
                "cluster_id": s.cluster_id if in_ring else None,
                "cluster_size": s.cluster_size,
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
