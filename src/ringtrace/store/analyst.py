"""Analysts' control over clusters (merge, cut), explanations, and the batch linker's
Parquet export and write-back. Every change is audited and survives every rebuild."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from ringtrace.domain.models import LinkKey
from ringtrace.errors import InvalidReport, NotFound
from ringtrace.linking.explain import Hop, shortest_chain
from ringtrace.linking.specificity import is_automatic

__all__ = ["Hop"]
from ringtrace.store import audit_log as audit
from ringtrace.store.tables import decisions, indicators, report_clusters, reports

CUT_PREFIX = "cut by an analyst: "


def cut_keys(conn: Connection) -> dict[LinkKey, str]:
    return {
        LinkKey(r.key_type, r.key_value): r.reason
        for r in conn.execute(select(decisions).where(decisions.c.kind == "cut"))
    }


def merges(conn: Connection) -> list[tuple[int, int, str]]:
    return [
        (int(r.report_a), int(r.report_b), r.reason)
        for r in conn.execute(
            select(decisions).where(decisions.c.kind == "merge").order_by(decisions.c.id)
        )
    ]


def apply_cuts(
    conn: Connection, report_ids: list[int] | None = None, *, only: LinkKey | None = None
) -> None:
    """Mark every indicator of a cut key (or of the cut key ``only``) as not linking, with
    the analyst's reason."""
    cuts = cut_keys(conn)
    for key, reason in cuts.items() if only is None else [(only, cuts[only])]:
        q = update(indicators).where(indicators.c.type == key.type, indicators.c.value == key.value)
        if report_ids is not None:
            q = q.where(indicators.c.report_id.in_(report_ids))
        conn.execute(q.values(linkable=False, excluded_reason=CUT_PREFIX + reason))


def apply_merges(conn: Connection, pairs: list[tuple[int, int]] | None = None) -> None:
    """Union the clusters of every merged pair (or of ``pairs`` only: a new merge), after
    automatic linking."""
    for a, b in pairs if pairs is not None else [(a, b) for a, b, _ in merges(conn)]:
        ca = conn.execute(
            select(report_clusters.c.cluster_id).where(report_clusters.c.report_id == a)
        ).scalar()
        cb = conn.execute(
            select(report_clusters.c.cluster_id).where(report_clusters.c.report_id == b)
        ).scalar()
        if ca is None or cb is None or ca == cb:
            continue
        keep, drop = min(ca, cb), max(ca, cb)
        conn.execute(
            update(report_clusters)
            .where(report_clusters.c.cluster_id == drop)
            .values(cluster_id=keep)
        )


def record_decision(conn: Connection, actor: str, **values: Any) -> None:
    conn.execute(insert(decisions).values(actor=actor, at=datetime.now(UTC), **values))


def require_reason(reason: str) -> str:
    reason = reason.strip()
    if len(reason) < 5:
        raise InvalidReport("a reason of at least a few words is required", field="reason")
    return reason


def explain(conn: Connection, a: int, b: int) -> list[Hop] | None:
    ca = conn.execute(
        select(report_clusters.c.cluster_id).where(report_clusters.c.report_id == a)
    ).scalar()
    cb = conn.execute(
        select(report_clusters.c.cluster_id).where(report_clusters.c.report_id == b)
    ).scalar()
    if ca is None or cb is None:
        raise NotFound("no such report")
    if ca != cb:
        return None
    return shortest_chain(a, b, ring_key_rows(conn, int(ca)), merges(conn))


def ring_key_rows(conn: Connection, cluster_id: int) -> list[tuple[int, LinkKey]]:
    """(report id, key) for every linkable key of every report in one ring."""
    members = select(report_clusters.c.report_id).where(report_clusters.c.cluster_id == cluster_id)
    return [
        (int(r.report_id), LinkKey(r.type, r.value))
        for r in conn.execute(
            select(indicators.c.report_id, indicators.c.type, indicators.c.value).where(
                indicators.c.report_id.in_(members), indicators.c.linkable.is_(True)
            )
        )
    ]


def export_parquet(conn: Connection, out: Path) -> dict[str, int]:
    """reports.parquet, keys.parquet and merges.parquet for the batch linkers."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    out.mkdir(parents=True, exist_ok=True)
    counts = {}
    rep = conn.execute(
        select(reports.c.id, reports.c.source, reports.c.external_id).order_by(reports.c.id)
    ).all()
    pq.write_table(
        pa.table(
            {
                "report_id": [r[0] for r in rep],
                "source": [r[1] for r in rep],
                "external_id": [r[2] for r in rep],
            }
        ),
        out / "reports.parquet",
    )
    counts["reports"] = len(rep)
    n = 0
    result = conn.execution_options(stream_results=True).execute(
        select(
            indicators.c.report_id,
            indicators.c.type,
            indicators.c.value,
            indicators.c.linkable,
            indicators.c.excluded_reason,
            indicators.c.strong,
            indicators.c.cue_strong,
        )
    )
    schema = pa.schema(
        [
            ("report_id", pa.int64()),
            ("key_type", pa.string()),
            ("key_value", pa.string()),
            ("linkable", pa.bool_()),
            ("strong", pa.bool_()),
            ("cue_strong", pa.bool_()),
        ]
    )
    with pq.ParquetWriter(out / "keys.parquet", schema) as writer:
        while batch := result.fetchmany(200_000):
            writer.write_table(
                pa.table(
                    {
                        "report_id": [r[0] for r in batch], "key_type": [r[1] for r in batch],
                        "key_value": [r[2] for r in batch],
                        # Specificity is decided again by the batch linker, so values it
                        # excluded count as linkable here; other exclusions stand.
                        "linkable": [bool(r[3]) or is_automatic(r[4]) for r in batch],
                        # As extracted: the batch linker decides again which cues are
                        # outvoted (linking/specificity.py).
                        "strong": [bool(r[5]) or bool(r[6]) for r in batch],
                        "cue_strong": [bool(r[6]) for r in batch],
                    },
                    schema=schema,
                )
            )  # fmt: skip
            n += len(batch)
    counts["keys"] = n
    m = merges(conn)
    pq.write_table(
        pa.table(
            {
                "a": pa.array([x[0] for x in m], pa.int64()),
                "b": pa.array([x[1] for x in m], pa.int64()),
            }
        ),
        out / "merges.parquet",
    )
    counts["merges"] = len(m)
    (out / "export.json").write_text(json.dumps({"format": "ringtrace.link-export/1", **counts}))
    return counts


def write_assignments(
    conn: Connection, assignments: dict[int, int], actor: str, engine: str
) -> int:
    """Replace every cluster assignment with the batch linker's (singletons as themselves);
    return how many reports changed cluster."""
    current = dict(
        conn.execute(select(report_clusters.c.report_id, report_clusters.c.cluster_id)).all()
    )
    ids = [int(r[0]) for r in conn.execute(select(reports.c.id))]
    new = {rid: assignments.get(rid, rid) for rid in ids}
    moved = sum(1 for rid in ids if current.get(rid) != new[rid])
    if moved:
        conn.execute(delete(report_clusters))
        rows = [{"report_id": r, "cluster_id": c} for r, c in new.items()]
        for i in range(0, len(rows), 50_000):
            conn.execute(insert(report_clusters), rows[i : i + 50_000])
    audit.append(
        conn,
        actor,
        "clusters.batch_link",
        "store",
        {"engine": engine, "reports": len(ids), "moved": moved},
    )
    return moved
