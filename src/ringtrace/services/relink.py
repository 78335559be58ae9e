"""Deriving everything again: re-extract every report's indicators and re-link (rebuild),
and the batch linker's hand-off (export to Parquet, apply its assignments)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from sqlalchemy import (
    delete,
    select,
)

from ringtrace.domain.models import Indicator
from ringtrace.evidence.keys import open_document
from ringtrace.intake.schema import ReportDocument
from ringtrace.store import analyst, components
from ringtrace.store import apk as apk_store
from ringtrace.store import audit_log as audit
from ringtrace.store import media as media_store
from ringtrace.store.database import Store
from ringtrace.store.rows import (
    aad,
    apply_policy,
)
from ringtrace.store.tables import (
    indicators,
    media_hashes,
    reports,
)


def rebuild(store: Store, extract: Callable[[ReportDocument], Sequence[Indicator]]) -> int:
    """Drop every derived row and derive it again from the stored reports.

    A withdrawn report has no document left; the indicators its reporter's consent let us
    keep are kept as they are and linked again."""
    ring = store.keys()
    with store.write() as conn:
        withdrawn = select(reports.c.id).where(reports.c.withdrawn_at.is_not(None))
        conn.execute(delete(indicators).where(indicators.c.report_id.not_in(withdrawn)))
        conn.execute(delete(media_hashes))
        cuts = analyst.cut_keys(conn)
        count = 0
        rows = conn.execute(
            select(
                reports.c.id,
                reports.c.source,
                reports.c.external_id,
                reports.c.document,
                reports.c.document_key,
                reports.c.withdrawn_at,
            ).order_by(reports.c.id)
        )
        for r in rows.all():
            if r.withdrawn_at is not None:
                continue  # its kept indicators stay as they are
            text = open_document(
                ring,
                r.document,
                r.document_key,
                aad(r.source, r.external_id),
                what=f"report {r.source}/{r.external_id}",
            )
            doc = ReportDocument.model_validate_json(text)
            found = extract(doc)
            apply_policy(found, cuts)
            store.reports.insert_indicators(conn, r.id, found)
            media_store.insert_lure(conn, r.id, doc)
            # APK link keys come from the stored analyses; nothing is analysed again.
            apk_found = apk_store.new_keys(conn, r.id, apk_store.done_keys(conn, r.id))
            apply_policy(apk_found, cuts)
            store.reports.insert_indicators(conn, r.id, apk_found)
            count += 1
        components.full_recompute(conn)
        audit.append(conn, store.actor, "store.rebuild", "store", {"reports": count})
    media_store.SyncedIndex(store.media_dir / "lure").reset()
    return count


def export_parquet(store: Store, out: Path) -> dict[str, int]:
    with store.read() as conn:
        counts = analyst.export_parquet(conn, out)
    store.audit.record("export.parquet", "store", counts)
    return counts


def apply_batch(
    store: Store, assignments: dict[int, int], engine: str, actor: str | None = None
) -> int:
    with store.write() as conn:
        return analyst.write_assignments(conn, assignments, actor or store.actor, engine)
