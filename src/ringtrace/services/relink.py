"""Deriving everything again: re-extract every report's indicators and cluster the whole
store with the batch linker (rebuild, relink), loading a large collection in bulk, and the
batch linker's hand-off (export to Parquet, apply its assignments)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from pathlib import Path

from sqlalchemy import Connection, delete, select

from ringtrace.domain.models import Indicator, ReportRef
from ringtrace.evidence.keys import open_document
from ringtrace.intake.received import Received
from ringtrace.intake.schema import ReportDocument
from ringtrace.store import analyst, components
from ringtrace.store import apk as apk_store
from ringtrace.store import audit_log as audit
from ringtrace.store import media as media_store
from ringtrace.store.database import Store
from ringtrace.store.rows import aad, apply_policy, report_subject
from ringtrace.store.tables import (
    indicators,
    media_hashes,
    reports,
)

log = logging.getLogger(__name__)

BATCH = 500


def rebuild(
    store: Store, extract: Callable[[ReportDocument], Sequence[Indicator]], batch: int = BATCH
) -> int:
    """Drop every derived row and derive it again from the stored reports, then cluster the
    whole store with the batch linker. A withdrawn report has no document left; the
    indicators its reporter's consent let us keep stay as they are and are linked again.

    Derivation goes in batches: each batch's documents are read and extracted outside the
    write lock, then its rows are replaced in one short write transaction, so submissions
    keep being acknowledged meanwhile. Returns how many reports were derived."""
    ring = store.keys()
    with store.read() as conn:
        ids = [
            int(r)
            for r in conn.execute(
                select(reports.c.id).where(reports.c.withdrawn_at.is_(None)).order_by(reports.c.id)
            ).scalars()
        ]
    with store.write() as conn:
        withdrawn = select(reports.c.id).where(reports.c.withdrawn_at.is_not(None))
        conn.execute(delete(media_hashes).where(media_hashes.c.report_id.in_(withdrawn)))
    count = 0
    for i in range(0, len(ids), batch):
        chunk = ids[i : i + batch]
        with store.read() as conn:
            rows = conn.execute(
                select(
                    reports.c.id, reports.c.source, reports.c.external_id, reports.c.document,
                    reports.c.document_key,
                ).where(reports.c.id.in_(chunk), reports.c.withdrawn_at.is_(None))
            ).all()  # fmt: skip
        derived = []
        for r in rows:
            text = open_document(
                ring, r.document, r.document_key, aad(r.source, r.external_id),
                what=f"report {r.source}/{r.external_id}",
            )  # fmt: skip
            doc = ReportDocument.model_validate_json(text)
            derived.append((int(r.id), doc, extract(doc)))
        with store.write() as conn:
            count += _replace_derived(store, conn, chunk, derived)
        log.info("rebuild: %d of %d reports derived", min(i + batch, len(ids)), len(ids))
    moved = relink(store)
    with store.write() as conn:
        audit.append(
            conn, store.actor, "store.rebuild", "store", {"reports": count, "moved": moved}
        )
    media_store.SyncedIndex(store.media_dir / "lure").reset()
    return count


def _replace_derived(
    store: Store,
    conn: Connection,
    chunk: list[int],
    derived: list[tuple[int, ReportDocument, Sequence[Indicator]]],
) -> int:
    """Replace one batch's indicators and lure hashes (in the caller's write transaction)."""
    # A report withdrawn since it was read keeps what the withdrawal left.
    live = sorted(
        conn.execute(
            select(reports.c.id).where(reports.c.id.in_(chunk), reports.c.withdrawn_at.is_(None))
        ).scalars()
    )
    cuts = analyst.cut_keys(conn)
    conn.execute(delete(indicators).where(indicators.c.report_id.in_(live)))
    conn.execute(delete(media_hashes).where(media_hashes.c.report_id.in_(live)))
    done = 0
    for rid, doc, found in derived:
        if rid not in live:
            continue
        apply_policy(found, cuts)
        store.reports.insert_indicators(conn, rid, found)
        media_store.insert_lure(conn, rid, doc)
        # APK link keys come from the stored analyses; nothing is analysed again.
        apk_found = apk_store.new_keys(conn, rid, apk_store.done_keys(conn, rid))
        apply_policy(apk_found, cuts)
        store.reports.insert_indicators(conn, rid, apk_found)
        done += 1
    return done


def relink(store: Store, tries: int = 3) -> int:
    """Cluster the whole store with the batch linker (DuckDB) and take the result over:
    key statuses, core groups and clusters. The store's rows are read in short
    transactions; reports that arrive meanwhile are linked on top of the result, and a cut,
    merge, withdrawal or APK analysis audited meanwhile makes it run again (after ``tries``,
    once under the write lock). Returns how many reports changed cluster."""
    for _ in range(tries):
        result, upto, seq = components.batch_recompute(store.read)
        with store.write() as conn:
            if components.changed_since(conn, seq):
                continue
            return components.apply_result(conn, result, upto)
    with store.write() as conn:
        result, upto, _ = components.batch_recompute(lambda: nullcontext(conn))
        return components.apply_result(conn, result, upto)


def bulk_load(
    store: Store, items: Sequence[tuple[Received, Sequence[Indicator]]], actor: str | None = None
) -> list[int]:
    """Store many new reports with their indicators in one transaction without linking them
    one by one: for loading a large collection (a migration, ``benchmarks/cut.py``). The
    caller links them afterwards with :func:`relink`, which gives the store the online
    linker would have (the benchmark checks that on a sample). Reports already stored are
    an error here, not a no-op as on ingest. Their audit entries say ``cluster_id: null``:
    the clusters are decided by the relink."""
    for received, _ in items:
        for blob in received.blobs:
            store.vault.put(blob.data)
    with store.write() as conn:
        cuts = analyst.cut_keys(conn)
        for _, found in items:
            apply_policy(found, cuts)
        ids = store.reports.insert_many(conn, items)
        audit.append_many(conn, [
            (actor or store.actor, "report.create",
             report_subject(ReportRef(rec.doc.source, rec.doc.external_id)),
             {"report_id": rid, "content_sha256": rec.content_sha256,
              "attachments": [b.sha256 for b in rec.blobs], "indicators": len(found),
              "cluster_id": None})
            for rid, (rec, found) in zip(ids, items, strict=True)
        ])  # fmt: skip
    return ids


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
