"""The store: one class over SQLAlchemy Core, the same code on SQLite and PostgreSQL.

Reports are inserted once and never updated. Indicators and cluster assignments are derived
and can be dropped and rebuilt from the reports at any time (:meth:`Store.rebuild`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    Connection,
    Engine,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.exc import IntegrityError, OperationalError

from ringtrace.domain.models import Cluster, Indicator, LinkKey, Occurrence, ReportRef
from ringtrace.errors import ConfigurationError, Conflict, NotFound, StoreUnavailable
from ringtrace.evidence.vault import Vault
from ringtrace.intake.received import Received
from ringtrace.intake.schema import ReportDocument
from ringtrace.linking import KeyRow, assemble_cluster, link_report
from ringtrace.settings import Settings
from ringtrace.store.tables import attachments, indicators, report_clusters, reports

log = logging.getLogger(__name__)

# Any constant: serialises the linking step across processes on PostgreSQL.
_PG_LINK_LOCK = 0x52494E47


@dataclass(frozen=True)
class AddResult:
    report_id: int
    cluster_id: int | None
    created: bool  # False when the same document was already stored (idempotent re-import)


@dataclass(frozen=True)
class ReportSummary:
    id: int
    ref: ReportRef
    received_at: datetime
    country: str | None
    tlp: str
    cluster_id: int | None
    cluster_size: int


@dataclass(frozen=True)
class AttachmentRow:
    position: int
    filename: str
    media_type: str | None
    sha256: str | None
    size: int | None
    stored: bool


@dataclass(frozen=True)
class ReportDetail:
    summary: ReportSummary
    document: dict[str, Any]
    indicators: list[Indicator]
    attachments: list[AttachmentRow]


def _utc(dt: datetime) -> datetime:
    if dt.tzinfo is None:  # SQLite returns naive datetimes; they were stored as UTC
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def _make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy, not the driver, decide when transactions begin, so that
            # BEGIN IMMEDIATE below takes the write lock before any read of the linker.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Connection) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True)


class _SqlComponents:
    """:class:`ringtrace.linking.ComponentStore` on one open transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def reports_sharing(self, keys: Sequence[LinkKey], exclude: int) -> set[int]:
        pairs = [(k.type, k.value) for k in keys]
        found: set[int] = set()
        for i in range(0, len(pairs), 200):
            rows = self.conn.execute(
                select(indicators.c.report_id).where(
                    tuple_(indicators.c.type, indicators.c.value).in_(pairs[i : i + 200]),
                    indicators.c.linkable.is_(True),
                    indicators.c.report_id != exclude,
                )
            )
            found.update(r[0] for r in rows)
        return found

    def clusters_of(self, report_ids: Iterable[int]) -> set[int]:
        ids = list(report_ids)
        out: set[int] = set()
        for i in range(0, len(ids), 500):
            rows = self.conn.execute(
                select(report_clusters.c.cluster_id)
                .where(report_clusters.c.report_id.in_(ids[i : i + 500]))
                .distinct()
            )
            out.update(r[0] for r in rows)
        return out

    def move_clusters(self, from_ids: set[int], to_id: int) -> None:
        self.conn.execute(
            update(report_clusters)
            .where(report_clusters.c.cluster_id.in_(sorted(from_ids)))
            .values(cluster_id=to_id)
        )

    def assign(self, report_id: int, cluster_id: int) -> None:
        self.conn.execute(
            insert(report_clusters).values(report_id=report_id, cluster_id=cluster_id)
        )


def _alembic_config(conn: Connection) -> Config:
    cfg = Config()
    cfg.set_main_option(
        "script_location", str(resources.files("ringtrace.store").joinpath("migrations"))
    )
    cfg.attributes["connection"] = conn
    return cfg


class Store:
    """Reports, their derived indicators and clusters, and the evidence vault."""

    def __init__(self, engine: Engine, vault: Vault) -> None:
        self.engine = engine
        self.vault = vault

    @classmethod
    def open(cls, settings: Settings) -> Store:
        if settings.database_url is None:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        return cls(_make_engine(settings.effective_database_url), Vault(settings.vault_dir))

    def close(self) -> None:
        self.engine.dispose()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    # -- schema -----------------------------------------------------------------------

    def migrate(self) -> None:
        """Bring the schema to the newest migration (idempotent)."""
        with self._connect() as conn:
            command.upgrade(_alembic_config(conn), "head")
            conn.commit()

    def schema_revision(self) -> str | None:
        with self._connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def ensure_ready(self) -> None:
        """Fail with a clear message unless the schema is at the newest migration."""
        with self._connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
            head = ScriptDirectory.from_config(_alembic_config(conn)).get_current_head()
        if current is None:
            raise ConfigurationError("the database is empty: run `ringtrace init` first")
        if current != head:
            raise ConfigurationError(
                f"the database schema is at {current}, this version needs {head}: "
                "run `ringtrace init` to migrate"
            )

    @contextmanager
    def _connect(self) -> Iterator[Connection]:
        try:
            conn = self.engine.connect()
        except OperationalError as e:
            raise StoreUnavailable(f"cannot open the database ({self.dialect})") from e
        try:
            yield conn
        finally:
            conn.close()

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self._connect() as conn, conn.begin():
            if self.dialect == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LINK_LOCK})
            yield conn

    # -- writing ----------------------------------------------------------------------

    def add_report(self, received: Received, found: Sequence[Indicator]) -> AddResult:
        """Store a report, its evidence and indicators, and link it, in one transaction.

        The same ``(source, external_id)`` with the same content is a no-op; with different
        content it is a :class:`Conflict` (reports are never modified).
        """
        doc = received.doc
        existing = self._existing(doc.source, doc.external_id)
        if existing is not None:
            return self._duplicate(existing, received)
        for blob in received.blobs:  # files first: a crash leaves at most an orphan file
            self.vault.put(blob.data)
        try:
            with self._write() as conn:
                report_id = self._insert(conn, received, found)
                cluster_id = link_report(
                    _SqlComponents(conn), report_id, [i.key for i in found if i.linkable]
                )
        except IntegrityError:
            # The same report arrived twice at once and the other copy won the insert.
            existing = self._existing(doc.source, doc.external_id)
            if existing is None:
                raise
            log.info("report arrived twice concurrently; keeping the first")
            return self._duplicate(existing, received)
        return AddResult(report_id, cluster_id, created=True)

    def _existing(self, source: str, external_id: str) -> tuple[int, str] | None:
        with self._connect() as conn:
            row = conn.execute(
                select(reports.c.id, reports.c.content_sha256).where(
                    reports.c.source == source, reports.c.external_id == external_id
                )
            ).first()
            if row is None:
                return None
            return int(row[0]), str(row[1])

    def _duplicate(self, existing: tuple[int, str], received: Received) -> AddResult:
        report_id, sha = existing
        if sha != received.content_sha256:
            raise Conflict(
                f"report {received.doc.source}/{received.doc.external_id} already exists with "
                "different content; reports are immutable, send a new external_id"
            )
        with self._connect() as conn:
            cluster = conn.execute(
                select(report_clusters.c.cluster_id).where(report_clusters.c.report_id == report_id)
            ).scalar()
        return AddResult(report_id, cluster, created=False)

    def find_conflict(self, received: Received) -> str | None:
        """Why adding ``received`` would fail, or None (used to check a whole file first)."""
        existing = self._existing(received.doc.source, received.doc.external_id)
        if existing is not None and existing[1] != received.content_sha256:
            return "a report with this source and external_id already exists with other content"
        return None

    def _insert(self, conn: Connection, received: Received, found: Sequence[Indicator]) -> int:
        doc = received.doc
        report_id = conn.execute(
            insert(reports)
            .values(
                source=doc.source,
                external_id=doc.external_id,
                received_at=doc.received_at.astimezone(UTC),
                ingested_at=datetime.now(UTC),
                document=received.stored_text,
                content_sha256=received.content_sha256,
                country=doc.country,
                tlp=doc.tlp,
            )
            .returning(reports.c.id)
        ).scalar_one()
        blobs = {b.position: b for b in received.blobs}
        for i, att in enumerate(doc.attachments):
            blob = blobs.get(i)
            conn.execute(
                insert(attachments).values(
                    report_id=report_id,
                    position=i,
                    filename=att.filename,
                    media_type=att.media_type,
                    sha256=blob.sha256 if blob else (att.sha256.lower() if att.sha256 else None),
                    size=len(blob.data) if blob else None,
                    stored=blob is not None,
                )
            )
        self._insert_indicators(conn, report_id, found)
        return int(report_id)

    @staticmethod
    def _insert_indicators(conn: Connection, report_id: int, found: Sequence[Indicator]) -> None:
        if not found:
            return
        conn.execute(
            insert(indicators),
            [
                {
                    "report_id": report_id,
                    "type": ind.type,
                    "value": ind.value,
                    "linkable": ind.linkable,
                    "excluded_reason": ind.excluded_reason,
                    "extractor": ind.extractor,
                    "extractor_version": ind.extractor_version,
                    "attributes": json.dumps(ind.attributes, sort_keys=True),
                    "occurrences": json.dumps([o.to_dict() for o in ind.occurrences]),
                }
                for ind in found
            ],
        )

    def rebuild(self, extract: Callable[[ReportDocument], Sequence[Indicator]]) -> int:
        """Drop every derived row and derive it again from the stored reports."""
        with self._write() as conn:
            conn.execute(delete(report_clusters))
            conn.execute(delete(indicators))
            comps = _SqlComponents(conn)
            count = 0
            rows = conn.execute(select(reports.c.id, reports.c.document).order_by(reports.c.id))
            for report_id, document in rows.all():
                doc = ReportDocument.model_validate_json(document)
                found = extract(doc)
                self._insert_indicators(conn, report_id, found)
                link_report(comps, report_id, [i.key for i in found if i.linkable])
                count += 1
        return count

    # -- reading ----------------------------------------------------------------------

    def count_reports(self) -> int:
        with self._connect() as conn:
            return int(conn.execute(select(func.count()).select_from(reports)).scalar_one())

    def report_id(self, ref: ReportRef) -> int:
        with self._connect() as conn:
            rid = conn.execute(
                select(reports.c.id).where(
                    reports.c.source == ref.source, reports.c.external_id == ref.external_id
                )
            ).scalar()
        if rid is None:
            raise NotFound(f"no report {ref.source}/{ref.external_id}")
        return int(rid)

    def reports(
        self, *, limit: int = 100, offset: int = 0, cluster_id: int | None = None
    ) -> list[ReportSummary]:
        """Report summaries, newest first; only one cluster's when ``cluster_id`` is given."""
        sizes = (
            select(report_clusters.c.cluster_id, func.count().label("n"))
            .group_by(report_clusters.c.cluster_id)
            .subquery()
        )
        q = (
            select(
                reports.c.id,
                reports.c.source,
                reports.c.external_id,
                reports.c.received_at,
                reports.c.country,
                reports.c.tlp,
                report_clusters.c.cluster_id,
                sizes.c.n,
            )
            .outerjoin(report_clusters, report_clusters.c.report_id == reports.c.id)
            .outerjoin(sizes, sizes.c.cluster_id == report_clusters.c.cluster_id)
            .order_by(reports.c.received_at.desc(), reports.c.id.desc())
            .limit(limit)
            .offset(offset)
        )
        if cluster_id is not None:
            q = q.where(report_clusters.c.cluster_id == cluster_id)
        with self._connect() as conn:
            return [self._summary(row) for row in conn.execute(q)]

    @staticmethod
    def _summary(row: Any) -> ReportSummary:
        return ReportSummary(
            id=row.id,
            ref=ReportRef(row.source, row.external_id),
            received_at=_utc(row.received_at),
            country=row.country,
            tlp=row.tlp,
            cluster_id=row.cluster_id,
            cluster_size=int(row.n or 1),
        )

    def report(self, report_id: int) -> ReportDetail:
        with self._connect() as conn:
            row = conn.execute(
                select(reports, report_clusters.c.cluster_id)
                .outerjoin(report_clusters, report_clusters.c.report_id == reports.c.id)
                .where(reports.c.id == report_id)
            ).first()
            if row is None:
                raise NotFound(f"no report with id {report_id}")
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
        summary = ReportSummary(
            id=row.id,
            ref=ReportRef(row.source, row.external_id),
            received_at=_utc(row.received_at),
            country=row.country,
            tlp=row.tlp,
            cluster_id=row.cluster_id,
            cluster_size=int(size),
        )
        return ReportDetail(
            summary=summary,
            document=json.loads(row.document),
            indicators=[_indicator(r) for r in inds],
            attachments=[
                AttachmentRow(a.position, a.filename, a.media_type, a.sha256, a.size, a.stored)
                for a in atts
            ],
        )

    def cluster_ids(self, min_size: int = 2) -> list[tuple[int, int]]:
        """``(cluster_id, size)`` of every cluster with at least ``min_size`` reports,
        largest first."""
        q = (
            select(report_clusters.c.cluster_id, func.count().label("n"))
            .group_by(report_clusters.c.cluster_id)
            .having(func.count() >= min_size)
            .order_by(func.count().desc(), report_clusters.c.cluster_id)
        )
        with self._connect() as conn:
            return [(int(r[0]), int(r[1])) for r in conn.execute(q)]

    def cluster(self, cluster_id: int) -> Cluster:
        found = self.clusters([cluster_id])
        if not found:
            raise NotFound(f"no cluster with id {cluster_id}")
        return found[0]

    def clusters(self, ids: Sequence[int] | None = None) -> list[Cluster]:
        """Clusters of two or more reports (or the given ones), with their shared keys."""
        if ids is None:
            ids = [cid for cid, _ in self.cluster_ids()]
        out = []
        with self._connect() as conn:
            for cid in ids:
                members = {
                    int(r.id): ReportRef(r.source, r.external_id)
                    for r in conn.execute(
                        select(reports.c.id, reports.c.source, reports.c.external_id)
                        .join(report_clusters, report_clusters.c.report_id == reports.c.id)
                        .where(report_clusters.c.cluster_id == cid)
                    )
                }
                if not members:
                    continue
                key_rows = [
                    KeyRow(int(r.report_id), LinkKey(r.type, r.value), r.excluded_reason)
                    for r in conn.execute(
                        select(
                            indicators.c.report_id,
                            indicators.c.type,
                            indicators.c.value,
                            indicators.c.excluded_reason,
                        )
                        .join(
                            report_clusters, report_clusters.c.report_id == indicators.c.report_id
                        )
                        .where(report_clusters.c.cluster_id == cid)
                    )
                ]
                out.append(assemble_cluster(cid, members, key_rows))
        return out

    def cluster_members(self) -> dict[int, list[int]]:
        """Every report id grouped by cluster id (singletons included)."""
        out: dict[int, list[int]] = {}
        with self._connect() as conn:
            for rid, cid in conn.execute(
                select(report_clusters.c.report_id, report_clusters.c.cluster_id)
            ):
                out.setdefault(int(cid), []).append(int(rid))
        return out


def _indicator(row: Any) -> Indicator:
    return Indicator(
        type=row.type,
        value=row.value,
        extractor=row.extractor,
        extractor_version=row.extractor_version,
        occurrences=[Occurrence(**o) for o in json.loads(row.occurrences)],
        attributes=json.loads(row.attributes),
        excluded_reason=row.excluded_reason,
    )


def open_store(settings: Settings) -> Store:
    return Store.open(settings)
