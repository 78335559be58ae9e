"""Analysts' decisions on clusters: merge, cut a key, mark two reports unrelated, accept or
reject a suggestion. Each is audited with its reason and kept through every rebuild; only
the clusters holding the affected keys are recomputed. The ``*_for`` functions are the same
decisions taken by a person of an agency: they check first, with access/guards.py, that the
person may see every report and key the decision touches (the console calls only those;
the CLI runs as the instance's operator)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import (
    Connection,
    select,
    update,
)

from ringtrace.access import guards
from ringtrace.domain.models import LinkKey, ReportRef
from ringtrace.errors import (
    Conflict,
    NotFound,
)
from ringtrace.store import analyst, components
from ringtrace.store import audit_log as audit
from ringtrace.store.database import Store
from ringtrace.store.rows import (
    report_subject,
)
from ringtrace.store.tables import (
    indicators,
    report_clusters,
    suggestions,
)

if TYPE_CHECKING:
    from ringtrace.access.sharing import Sharing


def merge(
    store: Store, a: ReportRef, b: ReportRef, *, reason: str, actor: str | None = None
) -> int:
    """Join the clusters of two reports, for a reason; kept through every rebuild."""
    reason = analyst.require_reason(reason)
    ra, rb = store.reports.id_of(a), store.reports.id_of(b)
    with store.write() as conn:
        return merge_in(conn, (a, ra), (b, rb), reason=reason, actor=actor or store.actor)


def merge_in(
    conn: Connection, a: tuple[ReportRef, int], b: tuple[ReportRef, int], *, reason: str,
    actor: str,
) -> int:  # fmt: skip
    """:func:`merge` inside the caller's write transaction; returns the joined cluster."""
    analyst.record_decision(conn, actor, kind="merge", report_a=a[1], report_b=b[1], reason=reason)
    analyst.apply_merges(conn, [(a[1], b[1])])
    cid = int(
        conn.execute(
            select(report_clusters.c.cluster_id).where(report_clusters.c.report_id == a[1])
        ).scalar_one()
    )
    reports = [report_subject(a[0]), report_subject(b[0])]
    audit.append(conn, actor, "cluster.merge", f"cluster:{cid}",
                 {"reports": reports, "reason": reason})  # fmt: skip
    return cid


def cut(store: Store, key: LinkKey, *, reason: str, actor: str | None = None) -> list[int]:
    """Stop a key from linking anything (split the clusters it held together); kept
    through every rebuild. Returns the cluster ids that now hold its reports."""
    reason = analyst.require_reason(reason)
    with store.write() as conn:
        holders = [
            int(r[0])
            for r in conn.execute(
                select(indicators.c.report_id).where(
                    indicators.c.type == key.type, indicators.c.value == key.value
                )
            )
        ]
        if not holders:
            raise NotFound(f"no report has {key.type}:{key.value}")
        analyst.record_decision(
            conn,
            actor or store.actor,
            kind="cut",
            key_type=key.type,
            key_value=key.value,
            reason=reason,
        )
        analyst.apply_cuts(conn, holders, only=key)
        # Only the clusters and core groups that hold the key can change.
        components.recompute_around(conn, set(holders))
        after = sorted(
            {
                int(c)
                for c in conn.execute(
                    select(report_clusters.c.cluster_id).where(
                        report_clusters.c.report_id.in_(holders)
                    )
                ).scalars()
            }
        )
        audit.append(
            conn,
            actor or store.actor,
            "cluster.split",
            f"key:{key.type}:{key.value}",
            {"reason": reason, "reports": len(holders), "clusters_after": after},
        )
    return after


def unrelated(
    store: Store, a: ReportRef, b: ReportRef, *, reason: str, actor: str | None = None
) -> list[LinkKey]:
    """Mark two reports as unrelated: cut every key they share directly. Returns the
    keys cut; if they are still connected through others, ``explain`` shows the rest."""
    reason = analyst.require_reason(reason)  # before the suffix below makes any reason long
    ra, rb = store.reports.id_of(a), store.reports.id_of(b)
    shared = {i.key for i in store.reports.get(ra).indicators if i.linkable} & {
        i.key for i in store.reports.get(rb).indicators if i.linkable
    }
    for key in sorted(shared):
        cut(
            store,
            key,
            reason=f"{reason} ({a.external_id} and {b.external_id} unrelated)",
            actor=actor,
        )
    return sorted(shared)


def decide_suggestion(
    store: Store, suggestion_id: int, *, accept: bool, reason: str, actor: str | None = None
) -> None:
    """Accept (merge the two clusters) or reject a suggestion, with a reason; audited."""
    reason = analyst.require_reason(reason)
    with store.read() as conn:
        row = conn.execute(select(suggestions).where(suggestions.c.id == suggestion_id)).first()
    if row is None:
        raise NotFound(f"no suggestion {suggestion_id}")
    if row.status != "open":
        raise Conflict(f"suggestion {suggestion_id} was already {row.status}")
    refs = store.reports.refs([row.report_a, row.report_b])
    if accept:
        merge(
            store,
            refs[row.report_a],
            refs[row.report_b],
            reason=f"accepted suggestion {suggestion_id}: {reason}",
            actor=actor,
        )
    with store.write() as conn:
        conn.execute(
            update(suggestions)
            .where(suggestions.c.id == suggestion_id)
            .values(
                status="accepted" if accept else "rejected",
                reason=reason,
                decided_by=actor or store.actor,
            )
        )
        audit.append(
            conn,
            actor or store.actor,
            "suggestion.accept" if accept else "suggestion.reject",
            f"suggestion:{suggestion_id}",
            {
                "kind": row.kind,
                "score": row.score,
                "reports": [report_subject(refs[row.report_a]), report_subject(refs[row.report_b])],
                "reason": reason,
            },
        )


# -- the same decisions, taken by a person of an agency ---------------------------------------
# Each checks, before anything changes, that the person may see every report and key the
# decision touches (access/guards.py), and audits it under the person's name.


def cut_for(sh: Sharing, cluster_id: int, key: LinkKey, *, reason: str) -> list[int]:
    """A cut from a ring's page (the key must be one the person sees there)."""
    guards.authorise_cut(sh, cluster_id, key)
    return cut(sh.store, key, reason=reason, actor=sh.principal.actor)


def unrelated_for(sh: Sharing, report_a: int, report_b: int, *, reason: str) -> list[LinkKey]:
    guards.authorise_unrelated(sh, report_a, report_b)
    refs = sh.store.reports.refs([report_a, report_b])
    return unrelated(
        sh.store, refs[report_a], refs[report_b], reason=reason, actor=sh.principal.actor
    )


def merge_for(sh: Sharing, cluster_a: int, cluster_b: int, *, reason: str) -> int:
    anchor_a, anchor_b = guards.authorise_merge(sh, cluster_a, cluster_b)
    return merge(sh.store, anchor_a, anchor_b, reason=reason, actor=sh.principal.actor)


def decide_suggestion_for(
    sh: Sharing, suggestion_id: int, *, accept: bool, reason: str
) -> int | None:
    """Accept or reject a suggestion both of whose reports the person may decide on; the
    ring the two reports are now in when accepted."""
    found = [s for s in sh.store.suggestions.find(status=None) if s["id"] == suggestion_id]
    if not found:
        raise NotFound(f"no suggestion {suggestion_id}")
    ra = sh.store.reports.id_of(ReportRef(**found[0]["a"]))
    rb = sh.store.reports.id_of(ReportRef(**found[0]["b"]))
    guards.authorise_suggestion(sh, ra, rb)
    decide_suggestion(sh.store, suggestion_id, accept=accept, reason=reason,
                      actor=sh.principal.actor)  # fmt: skip
    return sh.store.reports.get(ra).summary.cluster_id if accept else None
