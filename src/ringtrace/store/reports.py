"""Reports (repository): inserting a batch with its attachments and indicators, reading one
report whole (decrypted, its row MAC checked) or pages of summaries, and mapping references
to ids."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Connection,
    and_,
    func,
    insert,
    or_,
    select,
)

from ringtrace.domain.models import Indicator, LinkKey, ReportRef
from ringtrace.errors import (
    NotFound,
)
from ringtrace.evidence.integrity import report_mac
from ringtrace.evidence.keys import open_document, seal_document
from ringtrace.intake.received import Received
from ringtrace.store import apk as apk_store
from ringtrace.store import integrity, view_columns
from ringtrace.store import media as media_store
from ringtrace.store.rows import (
    AttachmentRow,
    ReportDetail,
    ReportSummary,
    aad,
    indicator_from_row,
    indicator_row,
    utc,
)
from ringtrace.store.tables import (
    attachments,
    indicators,
    report_clusters,
    reports,
)

if TYPE_CHECKING:
    from ringtrace.store.database import Store


class ReportRepo:
    def __init__(self, db: Store) -> None:
        self.db = db

    def existing(self, source: str, external_id: str) -> tuple[int, str] | None:
        with self.db.read() as conn:
            row = conn.execute(
                select(reports.c.id, reports.c.content_sha256).where(
                    reports.c.source == source, reports.c.external_id == external_id
                )
            ).first()
            if row is None:
                return None
            return int(row[0]), str(row[1])

    def insert_many(
        self, conn: Connection, batch: Sequence[tuple[Received, Sequence[Indicator]]]
    ) -> list[int]:
        """Insert reports with their attachments and indicators: one statement per table
        for the whole batch (SQLAlchemy's insertmanyvalues, ids in the batch's order)."""
        now = datetime.now(UTC)
        rows = []
        for received, _ in batch:
            doc = received.doc
            sealed, wrapped = seal_document(
                self.db.keys(), received.stored_text, aad(doc.source, doc.external_id)
            )
            row = {
                "source": doc.source,
                "external_id": doc.external_id,
                "received_at": doc.received_at.astimezone(UTC),
                "ingested_at": now,
                "document": sealed,
                "document_key": wrapped,
                "content_sha256": received.content_sha256,
                "country": doc.country,
                "tlp": doc.tlp,
                "withdrawn_at": None,
                **view_columns.derive_text(received.stored_text),
            }
            row["mac"] = report_mac(self.db.integrity_key(), row)
            rows.append(row)
        ids = [
            int(r[0])
            for r in conn.execute(
                insert(reports).returning(reports.c.id, sort_by_parameter_order=True), rows
            )
        ]
        files = []
        ring = self.db.keys()
        for report_id, (received, _) in zip(ids, batch, strict=True):
            blobs = {b.position: b for b in received.blobs}
            aad_ = aad(received.doc.source, received.doc.external_id)
            for i, att in enumerate(received.doc.attachments):
                blob = blobs.get(i)
                files.append(
                    {
                        "report_id": report_id,
                        "position": i,
                        "filename": integrity.seal_name(ring, att.filename, aad_),
                        "media_type": att.media_type,
                        "sha256": blob.sha256
                        if blob
                        else (att.sha256.lower() if att.sha256 else None),
                        "size": len(blob.data) if blob else None,
                        "stored": blob is not None,
                        "detected_type": blob.detected_type if blob else None,
                    }
                )
        if files:
            conn.execute(insert(attachments), files)
        keys = [
            indicator_row(rid, ind)
            for rid, (_, found) in zip(ids, batch, strict=True)
            for ind in found
        ]
        if keys:
            conn.execute(insert(indicators), keys)
        for report_id, (received, _) in zip(ids, batch, strict=True):
            media_store.insert_for_report(conn, report_id, received.doc)
            apk_store.queue_for_report(conn, report_id, received)
        return ids

    @staticmethod
    def insert_indicators(conn: Connection, report_id: int, found: Sequence[Indicator]) -> None:
        if not found:
            return
        conn.execute(insert(indicators), [indicator_row(report_id, ind) for ind in found])

    def count(self) -> int:
        with self.db.read() as conn:
            return int(conn.execute(select(func.count()).select_from(reports)).scalar_one())

    def id_of(self, ref: ReportRef) -> int:
        with self.db.read() as conn:
            rid = conn.execute(
                select(reports.c.id).where(
                    reports.c.source == ref.source, reports.c.external_id == ref.external_id
                )
            ).scalar()
        if rid is None:
            raise NotFound(f"no report {ref.source}/{ref.external_id}")
        return int(rid)

    @staticmethod
    def _summaries() -> Any:
        # Each row's cluster size is counted for that row only (a correlated count, worked
        # out after the page is cut), not for every cluster in the store.
        peers = report_clusters.alias("peers")
        size = (
            select(func.count())
            .where(peers.c.cluster_id == report_clusters.c.cluster_id)
            .scalar_subquery()
        )
        return (
            select(
                reports.c.id,
                reports.c.source,
                reports.c.external_id,
                reports.c.received_at,
                reports.c.country,
                reports.c.tlp,
                report_clusters.c.cluster_id,
                size.label("n"),
            )
            .outerjoin(report_clusters, report_clusters.c.report_id == reports.c.id)
            .order_by(reports.c.received_at.desc(), reports.c.id.desc())
        )

    def page(
        self, *, limit: int = 100, offset: int = 0, cluster_id: int | None = None
    ) -> list[ReportSummary]:
        """Report summaries, newest first; only one cluster's when ``cluster_id`` is given."""
        q = self._summaries().limit(limit).offset(offset)
        if cluster_id is not None:
            q = q.where(report_clusters.c.cluster_id == cluster_id)
        with self.db.read() as conn:
            return [self._summary(row) for row in conn.execute(q)]

    def summaries(self, ids: Sequence[int]) -> dict[int, ReportSummary]:
        """These reports' summaries (a page's worth), without opening their documents."""
        if not ids:
            return {}
        q = self._summaries().where(reports.c.id.in_(sorted(set(ids))))
        with self.db.read() as conn:
            return {int(row.id): self._summary(row) for row in conn.execute(q)}

    @staticmethod
    def _summary(row: Any, cluster_size: int | None = None) -> ReportSummary:
        """A summary from a row of reports joined with its cluster (its size in ``n``, or
        given)."""
        return ReportSummary(
            id=row.id,
            ref=ReportRef(row.source, row.external_id),
            received_at=utc(row.received_at),
            country=row.country,
            tlp=row.tlp,
            cluster_id=row.cluster_id,
            cluster_size=int(cluster_size if cluster_size is not None else (row.n or 1)),
        )

    def get(self, report_id: int) -> ReportDetail:
        with self.db.read() as conn:
            row = conn.execute(
                select(reports, report_clusters.c.cluster_id)
                .outerjoin(report_clusters, report_clusters.c.report_id == reports.c.id)
                .where(reports.c.id == report_id)
            ).first()
            if row is None:
                raise NotFound(f"no report with id {report_id}")
            integrity.check_report(self.db.integrity_key(), row)
            size = 1
            if row.cluster_id is not None:
                size = conn.execute(
                    select(func.count()).where(report_clusters.c.cluster_id == row.cluster_id)
                ).scalar_one()
            inds = conn.execute(
                select(indicators)
                .where(indicators.c.report_id == report_id)
                .order_by(indicators.c.id)
            ).all()
            atts = conn.execute(
                select(attachments)
                .where(attachments.c.report_id == report_id)
                .order_by(attachments.c.position)
            ).all()
        summary = self._summary(row, size)
        if row.withdrawn_at is not None:
            document: dict[str, Any] = json.loads(row.document)
        else:
            document = json.loads(
                open_document(
                    self.db.keys(),
                    row.document,
                    row.document_key,
                    aad(row.source, row.external_id),
                    what=f"report {row.source}/{row.external_id}",
                )
            )
        return ReportDetail(
            withdrawn=row.withdrawn_at is not None,
            summary=summary,
            document=document,
            indicators=[indicator_from_row(r) for r in inds],
            attachments=[
                AttachmentRow(
                    a.position,
                    integrity.open_name(
                        self.db.keys(), a.filename, aad(row.source, row.external_id)
                    ),
                    a.media_type,
                    a.sha256,
                    a.size,
                    a.stored,
                    a.detected_type,
                )
                for a in atts
            ],
        )

    def views(self, ids: Iterable[int]) -> dict[int, view_columns.ReportView]:
        """What lists show of these reports (consent, urgency), without their documents."""
        with self.db.read() as conn:
            return view_columns.read(conn, self.db.integrity_key(), ids, self.db.keys)

    def refs(self, ids: Sequence[int]) -> dict[int, ReportRef]:
        with self.db.read() as conn:
            rows = conn.execute(
                select(reports.c.id, reports.c.source, reports.c.external_id).where(
                    reports.c.id.in_(list(ids))
                )
            )
            return {int(r.id): ReportRef(r.source, r.external_id) for r in rows}

    def holding(self, keys: Sequence[LinkKey]) -> dict[int, list[LinkKey]]:
        """Which reports hold any of these keys (exact normalised values)."""
        out: dict[int, list[LinkKey]] = {}
        if not keys:
            return out
        cond = or_(*[(indicators.c.type == k.type) & (indicators.c.value == k.value) for k in keys])
        with self.db.read() as conn:
            for rid, t, v in conn.execute(
                select(indicators.c.report_id, indicators.c.type, indicators.c.value).where(cond)
            ):
                out.setdefault(int(rid), []).append(LinkKey(str(t), str(v)))
        return out

    def ingested_times(self) -> dict[int, datetime]:
        with self.db.read() as conn:
            rows = conn.execute(select(reports.c.id, reports.c.ingested_at)).all()
        return {int(r[0]): utc(r[1]) for r in rows}

    def ids_of(self, refs: Sequence[ReportRef]) -> dict[ReportRef, int]:
        """Report ids of many references at once (:class:`NotFound` if one is missing)."""
        wanted = list(dict.fromkeys(refs))
        out: dict[ReportRef, int] = {}
        with self.db.read() as conn:
            for i in range(0, len(wanted), 200):
                chunk = wanted[i : i + 200]
                for rid, src, ext in conn.execute(
                    select(reports.c.id, reports.c.source, reports.c.external_id).where(
                        or_(
                            *(
                                and_(
                                    reports.c.source == r.source,
                                    reports.c.external_id == r.external_id,
                                )
                                for r in chunk
                            )
                        )
                    )
                ):
                    out[ReportRef(src, ext)] = int(rid)
        for r in wanted:
            if r not in out:
                raise NotFound(f"no report {r.source}/{r.external_id}")
        return out
