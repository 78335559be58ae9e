"""``ringtrace rebuild``: derive every report's indicators again, then cluster the whole
store with the batch linker.

Derivation goes report by report, but in batches: each batch's documents are read and
extracted outside the write lock, then its rows are replaced in one short write
transaction, so submissions keep being acknowledged meanwhile. Clustering reads the rows in
short transactions too and runs on DuckDB; the result is taken over in one write
transaction, and reports that arrived in the meantime are linked on top of it. If a cut, a
merge, a withdrawal or an APK analysis happened while the batch linker ran, it runs again
(and, after three tries, once more under the lock).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from typing import TYPE_CHECKING

from sqlalchemy import delete, select

from ringtrace.domain.models import Indicator, ReportRef
from ringtrace.evidence.keys import open_document
from ringtrace.intake.received import Received
from ringtrace.intake.schema import ReportDocument
from ringtrace.store import analyst, components
from ringtrace.store import apk as apk_store
from ringtrace.store import audit_log as audit
from ringtrace.store import media as media_store
from ringtrace.store.tables import indicators, media_hashes, reports

if TYPE_CHECKING:
    from ringtrace.store.database import Store

log = logging.getLogger(__name__)

BATCH = 500


def rebuild(
    store: Store, extract: Callable[[ReportDocument], Sequence[Indicator]], batch: int = BATCH
) -> int:
    """Drop every derived row and derive it again from the stored reports. A withdrawn
    report has no document left; the indicators its reporter's consent let us keep stay as
    they are and are linked again. Returns how many reports were derived."""
    from ringtrace.store.database import _aad, _apply_policy

    ring = store.keys()
    with store._connect() as conn:
        ids = [
            int(r)
            for r in conn.execute(
                select(reports.c.id).where(reports.c.withdrawn_at.is_(None)).order_by(reports.c.id)
            ).scalars()
        ]
    with store._write() as conn:
        withdrawn = select(reports.c.id).where(reports.c.withdrawn_at.is_not(None))
        conn.execute(delete(media_hashes).where(media_hashes.c.report_id.in_(withdrawn)))
    count = 0
    for i in range(0, len(ids), batch):
        chunk = ids[i : i + batch]
        with store._connect() as conn:
            rows = conn.execute(
                select(
                    reports.c.id, reports.c.source, reports.c.external_id, reports.c.document,
                    reports.c.document_key,
                ).where(reports.c.id.in_(chunk), reports.c.withdrawn_at.is_(None))
            ).all()  # fmt: skip
        derived = []
        for r in rows:
            text = open_document(
                ring, r.document, r.document_key, _aad(r.source, r.external_id),
                what=f"report {r.source}/{r.external_id}",
            )  # fmt: skip
            doc = ReportDocument.model_validate_json(text)
            derived.append((int(r.id), doc, extract(doc)))
        with store._write() as conn:
            # A report withdrawn since it was read keeps what the withdrawal left.
            live = set(
                conn.execute(
                    select(reports.c.id).where(
                        reports.c.id.in_(chunk), reports.c.withdrawn_at.is_(None)
                    )
                ).scalars()
            )
            cuts = analyst.cut_keys(conn)
            conn.execute(delete(indicators).where(indicators.c.report_id.in_(sorted(live))))
            conn.execute(delete(media_hashes).where(media_hashes.c.report_id.in_(sorted(live))))
            for rid, doc, found in derived:
                if rid not in live:
                    continue
                _apply_policy(found, cuts)
                store._insert_indicators(conn, rid, found)
                media_store.insert_lure(conn, rid, doc)
                # APK link keys come from the stored analyses; nothing is analysed again.
                apk_found = apk_store.new_keys(conn, rid, apk_store.done_keys(conn, rid))
                _apply_policy(apk_found, cuts)
                store._insert_indicators(conn, rid, apk_found)
                count += 1
        log.info("rebuild: %d of %d reports derived", min(i + batch, len(ids)), len(ids))
    moved = relink(store)
    with store._write() as conn:
        audit.append(
            conn, store.actor, "store.rebuild", "store", {"reports": count, "moved": moved}
        )
    media_store.SyncedIndex(store.media_dir / "lure").reset()
    return count


def relink(store: Store, tries: int = 3) -> int:
    """Cluster the whole store with the batch linker and take the result over; returns
    how many reports changed cluster."""
    for _ in range(tries):
        result, upto, seq = components.batch_recompute(store._connect)
        with store._write() as conn:
            if components.changed_since(conn, seq):
                continue
            return components.apply_result(conn, result, upto)
    # Decisions keep arriving: read, link and apply under the lock once.
    with store._write() as conn:
        result, upto, _ = components.batch_recompute(lambda: nullcontext(conn))
        return components.apply_result(conn, result, upto)


def bulk_load(
    store: Store, items: Sequence[tuple[Received, Sequence[Indicator]]], actor: str | None = None
) -> list[int]:
    """Store many new reports with their indicators in one transaction without linking them
    one by one: for loading a large collection (a migration, ``benchmarks/cut.py``). The
    caller links them afterwards with :func:`relink`, which gives the store the online
    linker would have (the benchmark checks that on a sample). Reports already stored are
    an error here, not a no-op as for :meth:`Store.add_report`. Their audit entries say
    ``cluster_id: null``: the clusters are decided by the relink."""
    from ringtrace.store.database import _apply_policy, report_subject

    for received, _ in items:
        for blob in received.blobs:
            store.vault.put(blob.data)
    with store._write() as conn:
        cuts = analyst.cut_keys(conn)
        for _, found in items:
            _apply_policy(found, cuts)
        ids = store._insert_many(conn, items)
        audit.append_many(conn, [
            (actor or store.actor, "report.create",
             report_subject(ReportRef(rec.doc.source, rec.doc.external_id)),
             {"report_id": rid, "content_sha256": rec.content_sha256,
              "attachments": [b.sha256 for b in rec.blobs], "indicators": len(found),
              "cluster_id": None})
            for rid, (rec, found) in zip(ids, items, strict=True)
        ])  # fmt: skip
    return ids
