"""SQL behind the sharing rules (access/sharing.py): which other agencies' reports were
brought into a viewer's ring by their own agency. SQL only; the rule is in access/."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from ringtrace.store import audit_log as audit
from ringtrace.store.tables import indicators, report_clusters, report_shares, reports


def brought_in(conn: Connection, owned: Any, candidates: Sequence[int]) -> set[int]:
    """Those of ``candidates`` that hold a linkable key which a report matching ``owned``
    (an SQL condition on ``reports``) held before them: reports whose agency submitted them
    into a ring the viewer's agency was already in. Report ids grow with arrival."""
    mine = indicators.alias("mine")
    theirs = indicators.alias("theirs")
    own_ids = select(reports.c.id).where(owned)
    out: set[int] = set()
    wanted = sorted(set(candidates))
    for i in range(0, len(wanted), 500):
        q = (
            select(theirs.c.report_id)
            .join(
                mine,
                (mine.c.type == theirs.c.type)
                & (mine.c.value == theirs.c.value)
                & (mine.c.report_id < theirs.c.report_id),
            )
            .where(
                theirs.c.report_id.in_(wanted[i : i + 500]),
                theirs.c.linkable.is_(True),
                theirs.c.excluded_reason.is_(None),
                mine.c.linkable.is_(True),
                mine.c.excluded_reason.is_(None),
                mine.c.report_id.in_(own_ids),
            )
            .distinct()
        )
        out.update(int(r[0]) for r in conn.execute(q))
    return out


def confirmed_to(conn: Connection, agency: str, candidates: Sequence[int]) -> set[int]:
    """Those of ``candidates`` whose agency confirmed the match to ``agency``."""
    wanted = sorted(set(candidates))
    out: set[int] = set()
    for i in range(0, len(wanted), 500):
        q = select(report_shares.c.report_id).where(
            report_shares.c.agency == agency,
            report_shares.c.report_id.in_(wanted[i : i + 500]),
        )
        out.update(int(r[0]) for r in conn.execute(q))
    return out


def confirm(
    conn: Connection, cluster_id: int, owned: Any, to_agency: str, *, actor: str
) -> list[int]:
    """Share the reports matching ``owned`` in ring ``cluster_id`` with ``to_agency`` (one
    audit entry naming the ring, the agency and how many). Returns the newly shared ids."""
    ids = [
        int(r[0])
        for r in conn.execute(
            select(reports.c.id)
            .join(report_clusters, report_clusters.c.report_id == reports.c.id)
            .where(report_clusters.c.cluster_id == cluster_id, owned)
            .order_by(reports.c.id)
        )
    ]
    fresh = sorted(set(ids) - confirmed_to(conn, to_agency, ids))
    now = datetime.now(UTC)
    if fresh:
        conn.execute(insert(report_shares), [
            {"report_id": rid, "agency": to_agency, "confirmed_by": actor, "confirmed_at": now}
            for rid in fresh
        ])  # fmt: skip
    audit.append(conn, actor, "ring.share", f"cluster:{cluster_id}",
                 {"agency": to_agency, "reports": len(fresh)})  # fmt: skip
    return fresh
