"""The store: one class over SQLAlchemy Core, the same code on SQLite and PostgreSQL.

Reports are inserted once and never updated. Indicators and cluster assignments are derived
and can be dropped and rebuilt from the reports at any time (:meth:`Store.rebuild`).
"""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    Connection,
    Engine,
    and_,
    create_engine,
    delete,
    event,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError, OperationalError

from ringtrace.domain.models import Cluster, Indicator, LinkKey, Occurrence, ReportRef
from ringtrace.errors import (
    AuthError,
    ConfigurationError,
    Conflict,
    NotFound,
    RingtraceError,
    StoreUnavailable,
)
from ringtrace.evidence.audit import AuditEntry, ChainReport
from ringtrace.evidence.integrity import report_mac
from ringtrace.evidence.keys import KeySource, open_document, rewrap, seal_document
from ringtrace.evidence.vault import Vault
from ringtrace.indicators.report import OWN_CONTACT_REASON
from ringtrace.intake.received import Received
from ringtrace.intake.schema import ReportDocument
from ringtrace.linking import KeyRow, assemble_cluster
from ringtrace.linking.specificity import WEAK_TYPES
from ringtrace.settings import Settings
from ringtrace.store import analyst, casework, components, corroboration, integrity
from ringtrace.store import apk as apk_store
from ringtrace.store import audit_log as audit
from ringtrace.store import media as media_store
from ringtrace.store.group_commit import GroupCommit
from ringtrace.store.tables import (
    attachments,
    indicators,
    report_clusters,
    reports,
    suggestions,
    takedown,
)

SYSTEM = "system"

log = logging.getLogger(__name__)

# Any constant: serialises the linking step across processes on PostgreSQL.
_PG_LINK_LOCK = 0x52494E47
ANCHOR_EVERY_S = 10.0  # the audit anchor follows the log at most this far behind
_PG_JOB_LOCKS = 0x524A  # namespace of the per-job advisory locks (key 2: the job id)


@dataclass(frozen=True)
class AddResult:
    report_id: int
    cluster_id: int | None
    created: bool  # False when the same document was already stored (idempotent re-import)

    @property
    def linked(self) -> bool:
        """Whether the report shares a cluster: a cluster is named by its smallest report
        id, so it is another report's id exactly when the report is not alone."""
        return self.cluster_id is not None and self.cluster_id != self.report_id


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
    detected_type: str | None = None


@dataclass(frozen=True)
class ReportDetail:
    summary: ReportSummary
    document: dict[str, Any]
    indicators: list[Indicator]
    attachments: list[AttachmentRow]
    withdrawn: bool = False


def _aad(source: str, external_id: str) -> bytes:
    return f"report:{source}/{external_id}".encode()


def report_subject(ref: ReportRef) -> str:
    return f"report:{ref.source}/{ref.external_id}"


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
            cur.execute("PRAGMA synchronous=FULL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Connection) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True)


def _alembic_config(conn: Connection) -> Config:
    cfg = Config()
    cfg.set_main_option(
        "script_location", str(resources.files("ringtrace.store").joinpath("migrations"))
    )
    cfg.attributes["connection"] = conn
    return cfg


class _CutsChanged(Exception):
    """An analyst cut a key while a batch was inserting: redo it with the new cuts."""


@dataclass
class _Batch:
    """What one group-commit transaction reads once for all its reports."""

    cuts: dict[LinkKey, str] | None = None
    watching: dict[int, list[tuple[int, str | None]]] | None = None
    audit: list[tuple[str, str, str, dict[str, Any]]] = field(default_factory=list)


class Store:
    """Reports, their derived indicators and clusters, and the evidence vault."""

    def __init__(
        self,
        engine: Engine,
        keys: KeySource,
        vault_dir: Path,
        actor: str,
        home_agency: str = "local",
    ) -> None:
        self.home_agency = home_agency
        # Called after a commit with (email, subject, body) for each alert to email.
        self.notifier: Callable[[str, str, str], None] | None = None
        self.public_url = "http://127.0.0.1:8000"
        self.engine = engine
        self.keys = keys
        self.vault = Vault(vault_dir, keys)
        self.actor = actor
        # Persisted hash indexes, kept beside the vault and brought up to date on use.
        self.media_dir = vault_dir.parent / "media-index"
        self._group_commit = GroupCommit(self._store_batch)
        self._anchored_at = float("-inf")

    @classmethod
    def open(cls, settings: Settings) -> Store:
        if settings.database_url is None:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            # Owner-only from the first byte; SQLite gives its -wal and -shm files the
            # database file's permissions.
            fd = os.open(settings.sqlite_path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                os.fchmod(fd, 0o600)  # and a file from an older version made owner-only
            finally:
                os.close(fd)
        secret = settings.vault_key.get_secret_value() if settings.vault_key else None
        actor = settings.actor or f"os:{getpass.getuser()}"
        store = cls._build(settings, secret, actor)
        store.public_url = settings.public_url.rstrip("/")
        if settings.smtp_host:
            from ringtrace.access.alerts import smtp_sender

            store.notifier = smtp_sender(settings.smtp_host, settings.smtp_port, settings.smtp_from)
        return store

    @classmethod
    def _build(cls, settings: Settings, secret: str | None, actor: str) -> Store:
        return cls(
            _make_engine(settings.effective_database_url),
            KeySource(settings.key_file, secret),
            settings.vault_dir,
            actor,
            settings.home_agency,
        )

    def start_writer(self) -> None:
        """Start this process's group-commit writer thread now (it starts on first use)."""
        self._group_commit.start()

    def close(self) -> None:
        self._group_commit.stop()
        with contextlib.suppress(RingtraceError, OSError), self._connect() as conn:
            if self._anchored_at > float("-inf"):  # this process wrote: anchor its last write
                self._maybe_anchor(conn, force=True)
        self.engine.dispose()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    # -- schema -----------------------------------------------------------------------

    def migrate(self) -> None:
        """Bring the schema to the newest migration and create the key file if there is
        none (idempotent)."""
        self.keys.ensure()
        with self._connect() as conn:
            command.upgrade(_alembic_config(conn), "head")
            conn.commit()
        with self._write() as conn:
            sealed = integrity.seal_legacy(conn, self.keys)
            if sealed:
                audit.append(conn, self.actor, "integrity.seal_legacy", "store",
                             {"rows": sealed})  # fmt: skip

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
        conn.info[audit.INTEGRITY_KEY] = self.integrity_key  # audit entries get their MAC
        try:
            yield conn
        finally:
            conn.close()

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self._connect() as conn:
            with conn.begin():
                self._take_link_lock(conn)
                yield conn
            self._maybe_anchor(conn)

    def integrity_key(self) -> bytes:
        return self.keys().integrity_key()

    @property
    def anchor_file(self) -> Path:
        return self.keys.key_file.parent / "audit-anchor.json"

    def _maybe_anchor(self, conn: Connection, *, force: bool = False) -> None:
        """Anchor the audit chain's head outside the database, at most every
        ANCHOR_EVERY_S seconds (and on close and `check`): deleting the newest entries then
        leaves the log shorter than its anchor."""
        now = time.monotonic()
        if not force and now - self._anchored_at < ANCHOR_EVERY_S:
            return
        self._anchored_at = now
        try:
            integrity.anchor(conn, self.integrity_key(), self.anchor_file)
        except ConfigurationError:
            return  # no usable key yet (before `init`): the write that needs one says so
        except OSError as e:  # a read-only data folder must not stop the writes
            log.warning("could not anchor the audit log (%s)", type(e).__name__)

    def _take_link_lock(self, conn: Connection) -> None:
        """Serialise the linker's writers (SQLite's BEGIN IMMEDIATE already has)."""
        if self.dialect == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LINK_LOCK})

    # -- writing ----------------------------------------------------------------------

    def add_report(
        self, received: Received, found: Sequence[Indicator], actor: str | None = None
    ) -> AddResult:
        """Store a report, its evidence and indicators, and link it, in one transaction.

        The same ``(source, external_id)`` with the same content is a no-op; with different
        content it is a :class:`Conflict` (reports are never modified).
        """
        doc = received.doc
        # No lookup first: the unique (source, external_id) catches a report sent again,
        # and the answer is then worked out from the stored one.
        for blob in received.blobs:  # files first: a crash leaves at most an orphan file
            self.vault.put(blob.data)
        try:
            report_id, cluster_id, mails = self._group_commit.submit(
                (received, found, actor or self.actor)
            )
        except IntegrityError:
            # Sent again (a retry, a re-import), or twice at once and the other copy won.
            existing = self._existing(doc.source, doc.external_id)
            if existing is None:
                raise
            return self._duplicate(existing, received)
        if mails and self.notifier is not None:
            for to, subject, body in mails:
                try:
                    self.notifier(to, subject, body)
                except OSError as e:  # the alert stays on the dashboard either way
                    log.warning("alert email not sent (%s)", type(e).__name__)
        return AddResult(report_id, cluster_id, created=True)

    def _link_one(
        self,
        conn: Connection,
        batch: _Batch,
        report_id: int,
        received: Received,
        found: Sequence[Indicator],
        actor: str,
    ) -> tuple[int, int, list[tuple[str, str, str]]]:
        """Link and audit one inserted report; the caller holds the link lock."""
        from ringtrace.access import alerts as alert_store

        doc = received.doc
        if batch.watching is None:
            batch.watching = alert_store.watchers(conn)
        inserted = [
            (LinkKey(ind.type, _stored_value(ind)), ind.linkable, ind.strong) for ind in found
        ]
        cluster_id = components.refresh_after_insert(conn, report_id, inserted=inserted)
        mails = alert_store.on_new_member(
            conn, cluster_id, report_id, self.public_url, batch.watching
        )
        batch.audit.append((
            actor, "report.create", report_subject(ReportRef(doc.source, doc.external_id)),
            {"report_id": report_id, "content_sha256": received.content_sha256,
             "attachments": [b.sha256 for b in received.blobs],
             "indicators": len(found), "cluster_id": cluster_id},
        ))  # fmt: skip
        return report_id, cluster_id, mails

    def _store_all(self, items: list[Any]) -> list[Any]:
        """Insert, link and audit reports in one transaction.

        On PostgreSQL the rows are inserted before the link lock is taken: inserts need no
        order (the unique key catches a duplicate), so two processes insert at once and
        hold the lock only to link. Under READ COMMITTED every statement after the lock
        sees what earlier lock holders committed, and a batch that inserts meanwhile links
        after us and sees ours. The analysts' cuts decide what may link, so if one was
        made while we inserted, the batch is redone.
        """
        with self._connect() as conn, conn.begin():
            cuts = analyst.cut_keys(conn)
            batch = _Batch(cuts=cuts)
            for _, found, _ in items:
                _apply_policy(found, cuts)
            ids = self._insert_many(conn, [(received, found) for received, found, _ in items])
            if self.dialect == "postgresql":  # rows in; now the lock, to link
                self._take_link_lock(conn)
                if analyst.cut_keys(conn) != cuts:
                    raise _CutsChanged
            out = [
                self._link_one(conn, batch, rid, received, found, actor)
                for rid, (received, found, actor) in zip(ids, items, strict=True)
            ]
            audit.append_many(conn, batch.audit)
            return out

    def _store_batch(self, items: list[Any]) -> list[Any]:
        """Group commit: store many reports in one write transaction (one lock, one commit).
        If one of them fails (a concurrent duplicate, say), the transaction is rolled back
        and each is stored in its own, so only that one fails. Answers a result or an
        exception per item."""
        for _ in range(3):
            try:
                return self._store_all(items)
            except _CutsChanged:
                continue
            except Exception:
                if len(items) == 1:
                    raise
                break
        out: list[Any] = []
        for item in items:
            try:
                out.append(self._store_all([item])[0])
            except Exception as e:  # that report only; the others go on
                out.append(e)
        return out

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

    def _insert_many(
        self, conn: Connection, batch: Sequence[tuple[Received, Sequence[Indicator]]]
    ) -> list[int]:
        """Insert reports with their attachments and indicators: one statement per table
        for the whole batch (SQLAlchemy's insertmanyvalues, ids in the batch's order)."""
        now = datetime.now(UTC)
        rows = []
        for received, _ in batch:
            doc = received.doc
            sealed, wrapped = seal_document(
                self.keys(), received.stored_text, _aad(doc.source, doc.external_id)
            )
            row = {
                "source": doc.source, "external_id": doc.external_id,
                "received_at": doc.received_at.astimezone(UTC), "ingested_at": now,
                "document": sealed, "document_key": wrapped,
                "content_sha256": received.content_sha256, "country": doc.country,
                "tlp": doc.tlp, "withdrawn_at": None,
            }  # fmt: skip
            row["mac"] = report_mac(self.integrity_key(), row)
            rows.append(row)
        ids = [
            int(r[0])
            for r in conn.execute(
                insert(reports).returning(reports.c.id, sort_by_parameter_order=True), rows
            )
        ]
        files = []
        ring = self.keys()
        for report_id, (received, _) in zip(ids, batch, strict=True):
            blobs = {b.position: b for b in received.blobs}
            aad = _aad(received.doc.source, received.doc.external_id)
            for i, att in enumerate(received.doc.attachments):
                blob = blobs.get(i)
                files.append({
                    "report_id": report_id, "position": i,
                    "filename": integrity.seal_name(ring, att.filename, aad),
                    "media_type": att.media_type,
                    "sha256": blob.sha256 if blob else (att.sha256.lower() if att.sha256 else None),
                    "size": len(blob.data) if blob else None, "stored": blob is not None,
                    "detected_type": blob.detected_type if blob else None,
                })  # fmt: skip
        if files:
            conn.execute(insert(attachments), files)
        keys = [
            _indicator_row(rid, ind)
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
    def _insert_indicators(conn: Connection, report_id: int, found: Sequence[Indicator]) -> None:
        if not found:
            return
        conn.execute(insert(indicators), [_indicator_row(report_id, ind) for ind in found])

    def rebuild(self, extract: Callable[[ReportDocument], Sequence[Indicator]]) -> int:
        """Drop every derived row and derive it again from the stored reports.

        A withdrawn report has no document left; the indicators its reporter's consent let us
        keep are kept as they are and linked again."""
        from ringtrace.store import rebuild

        return rebuild.rebuild(self, extract)

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

    def reports(
        self, *, limit: int = 100, offset: int = 0, cluster_id: int | None = None
    ) -> list[ReportSummary]:
        """Report summaries, newest first; only one cluster's when ``cluster_id`` is given."""
        q = self._summaries().limit(limit).offset(offset)
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
            integrity.check_report(self.integrity_key(), row)
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
        if row.withdrawn_at is not None:
            document: dict[str, Any] = json.loads(row.document)
        else:
            document = json.loads(
                open_document(
                    self.keys(),
                    row.document,
                    row.document_key,
                    _aad(row.source, row.external_id),
                    what=f"report {row.source}/{row.external_id}",
                )
            )
        return ReportDetail(
            withdrawn=row.withdrawn_at is not None,
            summary=summary,
            document=document,
            indicators=[_indicator(r) for r in inds],
            attachments=[
                AttachmentRow(
                    a.position,
                    integrity.open_name(self.keys(), a.filename, _aad(row.source, row.external_id)),
                    a.media_type,
                    a.sha256,
                    a.size,
                    a.stored,
                    a.detected_type,
                )
                for a in atts
            ],
        )

    # -- evidence, audit, erasure ------------------------------------------------------

    def attachment(
        self, report_id: int, position: int, *, actor: str | None = None
    ) -> tuple[AttachmentRow, bytes]:
        """An evidence file's bytes; every view is audited."""
        detail = self.report(report_id)
        match = [a for a in detail.attachments if a.position == position]
        att = match[0] if match else None
        if att is None or not att.stored or att.sha256 is None:
            raise NotFound(f"report {report_id} has no stored attachment {position}")
        data = self.vault.get(att.sha256)
        with self._write() as conn:
            audit.append(
                conn, actor or self.actor, "evidence.view", report_subject(detail.summary.ref),
                {"position": position, "sha256": att.sha256},
            )  # fmt: skip
        return att, data

    def record(
        self, action: str, subject: str, details: dict[str, Any], actor: str | None = None
    ) -> AuditEntry:
        """Add an audit entry for something done outside the store (an export, a view)."""
        with self._write() as conn:
            return audit.append(conn, actor or self.actor, action, subject, details)

    def check_evidence(self) -> list[str]:
        """Every integrity problem of the stored evidence: files that fail to open or do not
        match their name, and files the database lists that are gone."""
        self.vault.sweep_temporary()
        problems = self.vault.check()
        with self._connect() as conn:
            rows = conn.execute(
                select(attachments.c.report_id, attachments.c.position, attachments.c.sha256).where(
                    attachments.c.stored.is_(True)
                )
            ).all()
        for rid, pos, sha in rows:
            if sha and not self.vault.exists(sha):
                problems.append(f"report {rid} attachment {pos}: evidence {sha[:12]} is missing")
        return problems

    def audit_entries(self, subjects: list[str] | None = None) -> list[AuditEntry]:
        with self._connect() as conn:
            return list(audit.entries(conn, subjects))

    def verify_audit(self) -> ChainReport:
        """The chain, its MACs and its anchor (evidence/integrity.py)."""
        with self._connect() as conn:
            return integrity.verify_audit(conn, self.integrity_key(), self.anchor_file)

    def check(self) -> list[str]:
        """Every integrity problem in the store: report rows changed outside ringtrace, the
        audit chain (edited, rewritten or cut short), and the evidence files. Anchors the
        chain's head afterwards when it verified."""
        with self._connect() as conn:
            problems = integrity.report_problems(conn, self.integrity_key())
        chain = self.verify_audit()
        if not chain.ok:
            problems.append(f"audit log: {chain.problem}")
        problems += self.check_evidence()
        if chain.ok:
            with self._connect() as conn:
                self._maybe_anchor(conn, force=True)
        return problems

    def withdraw(self, ref: ReportRef, *, reason: str, actor: str | None = None) -> dict[str, int]:
        """Erase a reporter's personal data and evidence at their request.

        The document's own key is destroyed (so the sealed text is unreadable anywhere, backups
        included) and replaced by a residue of non-personal fields; evidence files no other
        report holds are deleted; the reporter's own contact is removed. Offender indicators
        stay only if the reporter consented to sharing; otherwise every indicator goes, and
        the clusters are recomputed. The erasure itself is audited, without personal data.
        """
        report_id = self.report_id(ref)
        detail = self.report(report_id)
        if detail.withdrawn:
            return {"files_deleted": 0, "indicators_kept": 0, "indicators_deleted": 0}
        consent = bool((detail.document.get("reporter") or {}).get("consent_share"))
        residue = {
            "withdrawn": True, "source": ref.source, "external_id": ref.external_id,
            "received_at": detail.document.get("received_at"), "tlp": detail.summary.tlp,
        }  # fmt: skip
        with self._write() as conn:
            shas = [a.sha256 for a in detail.attachments if a.sha256]
            shared = {
                r[0]
                for r in conn.execute(
                    select(attachments.c.sha256).where(
                        attachments.c.sha256.in_(shas), attachments.c.report_id != report_id
                    )
                )
            }
            conn.execute(
                update(reports)
                .where(reports.c.id == report_id)
                .values(
                    document=json.dumps(residue), document_key=None, withdrawn_at=datetime.now(UTC)
                )
            )
            integrity.reseal_report(conn, self.integrity_key(), report_id)
            conn.execute(
                update(attachments)
                .where(attachments.c.report_id == report_id)
                .values(filename="[erased]", sha256=None, size=None, stored=False, media_type=None)
            )
            keep = indicators.c.linkable.is_(True) if consent else indicators.c.id.is_(None)
            held = [
                LinkKey(t, v)
                for t, v in conn.execute(
                    select(indicators.c.type, indicators.c.value).where(
                        indicators.c.report_id == report_id
                    )
                )
            ]
            deleted = conn.execute(
                delete(indicators).where(indicators.c.report_id == report_id, ~keep)
            ).rowcount
            kept = conn.execute(
                select(func.count()).where(indicators.c.report_id == report_id)
            ).scalar_one()
            components.recompute_around(conn, {report_id}, keys=held)
            media_store.withdraw_report(conn, report_id, actor or self.actor, reason)
            audit.append(
                conn, actor or self.actor, "report.withdraw", report_subject(ref),
                {"reason": reason, "consent_share": consent, "files": len(shas),
                 "indicators_kept": kept, "indicators_deleted": deleted},
            )  # fmt: skip
        deleted_files = 0
        for sha in set(shas) - shared:
            self.vault.delete(sha)
            deleted_files += 1
        return {
            "files_deleted": deleted_files,
            "indicators_kept": int(kept),
            "indicators_deleted": int(deleted),
        }

    def rotate_keys(self, actor: str | None = None) -> dict[str, int]:
        """Seal everything under a new key, then retire the old ones. Readers keep working
        throughout: until the end, the key file holds both the old and the new keys."""
        ring = self.keys()
        new = ring.add_active()
        self.keys.save(ring)
        files = self.vault.rotate()
        rewrapped = 0
        ring = self.keys()
        with self._write() as conn:
            rows = conn.execute(
                select(
                    reports.c.id, reports.c.source, reports.c.external_id, reports.c.document_key
                ).where(reports.c.document_key.is_not(None))
            ).all()
            for r in rows:
                fresh = rewrap(
                    ring, r.document_key, _aad(r.source, r.external_id), what=f"report {r.id}"
                )
                if fresh is not None:
                    conn.execute(
                        update(reports).where(reports.c.id == r.id).values(document_key=fresh)
                    )
                    integrity.reseal_report(conn, ring.integrity_key(), r.id)
                    rewrapped += 1
            names = integrity.reseal_names(conn, ring)
            audit.append(conn, actor or self.actor, "keys.rotate", "store",
                         {"new_key": new, "files": files, "documents": rewrapped,
                          "file_names": names})  # fmt: skip
        retired = ring.retire_others()
        self.keys.save(ring)
        return {"files": files, "documents": rewrapped, "retired_keys": len(retired)}

    # -- analyst control and the batch linker --------------------------------------------

    def merge(self, a: ReportRef, b: ReportRef, *, reason: str, actor: str | None = None) -> int:
        """Join the clusters of two reports, for a reason; kept through every rebuild."""
        reason = analyst.require_reason(reason)
        ra, rb = self.report_id(a), self.report_id(b)
        with self._write() as conn:
            analyst.record_decision(
                conn, actor or self.actor, kind="merge", report_a=ra, report_b=rb, reason=reason
            )
            analyst.apply_merges(conn, [(ra, rb)])
            cid = int(
                conn.execute(
                    select(report_clusters.c.cluster_id).where(report_clusters.c.report_id == ra)
                ).scalar_one()
            )
            audit.append(conn, actor or self.actor, "cluster.merge", f"cluster:{cid}",
                         {"reports": [report_subject(a), report_subject(b)], "reason": reason})  # fmt: skip
        return cid

    def cut(self, key: LinkKey, *, reason: str, actor: str | None = None) -> list[int]:
        """Stop a key from linking anything (split the clusters it held together); kept
        through every rebuild. Returns the cluster ids that now hold its reports."""
        reason = analyst.require_reason(reason)
        with self._write() as conn:
            holders = [
                int(r[0]) for r in conn.execute(
                    select(indicators.c.report_id).where(indicators.c.type == key.type, indicators.c.value == key.value)
                )
            ]  # fmt: skip
            if not holders:
                raise NotFound(f"no report has {key.type}:{key.value}")
            analyst.record_decision(
                conn,
                actor or self.actor,
                kind="cut",
                key_type=key.type,
                key_value=key.value,
                reason=reason,
            )
            analyst.apply_cuts(conn, holders, only=key)
            # Only the clusters and core groups that hold the key can change.
            components.recompute_around(conn, set(holders))
            after = sorted({
                int(c) for c in conn.execute(
                    select(report_clusters.c.cluster_id).where(report_clusters.c.report_id.in_(holders))
                ).scalars()
            })  # fmt: skip
            audit.append(conn, actor or self.actor, "cluster.split", f"key:{key.type}:{key.value}",
                         {"reason": reason, "reports": len(holders), "clusters_after": after})  # fmt: skip
        return after

    def unrelated(
        self, a: ReportRef, b: ReportRef, *, reason: str, actor: str | None = None
    ) -> list[LinkKey]:
        """Mark two reports as unrelated: cut every key they share directly. Returns the
        keys cut; if they are still connected through others, ``explain`` shows the rest."""
        ra, rb = self.report_id(a), self.report_id(b)
        shared = {i.key for i in self.report(ra).indicators if i.linkable} & {
            i.key for i in self.report(rb).indicators if i.linkable
        }
        for key in sorted(shared):
            self.cut(
                key, reason=f"{reason} ({a.external_id} and {b.external_id} unrelated)", actor=actor
            )
        return sorted(shared)

    def explain(self, a: ReportRef, b: ReportRef) -> list[analyst.Hop] | None:
        with self._connect() as conn:
            return analyst.explain(conn, self.report_id(a), self.report_id(b))

    def ring_keys(
        self, cluster_id: int
    ) -> tuple[list[tuple[int, LinkKey]], list[tuple[int, int, str]]]:
        """A ring's linkable (report id, key) rows and every analysts' merge, for previews."""
        with self._connect() as conn:
            return analyst.ring_key_rows(conn, cluster_id), analyst.merges(conn)

    def refs(self, ids: Sequence[int]) -> dict[int, ReportRef]:
        with self._connect() as conn:
            rows = conn.execute(
                select(reports.c.id, reports.c.source, reports.c.external_id).where(
                    reports.c.id.in_(list(ids))
                )
            )
            return {int(r.id): ReportRef(r.source, r.external_id) for r in rows}

    def export_parquet(self, out: Path) -> dict[str, int]:
        with self._connect() as conn:
            counts = analyst.export_parquet(conn, out)
        self.record("export.parquet", "store", counts)
        return counts

    def apply_batch(
        self, assignments: dict[int, int], engine: str, actor: str | None = None
    ) -> int:
        with self._write() as conn:
            return analyst.write_assignments(conn, assignments, actor or self.actor, engine)

    def assignments(self) -> dict[int, int]:
        with self._connect() as conn:
            return {
                int(a): int(b)
                for a, b in conn.execute(
                    select(report_clusters.c.report_id, report_clusters.c.cluster_id)
                )
            }

    # -- weak signals ----------------------------------------------------------------------

    def refresh_suggestions(
        self, threshold: float = 0.5, backend: str = "rensa", image_threshold: int = 31
    ) -> int:
        """Find near-duplicate offender scripts and shared lure images (PDQ distance at most
        ``image_threshold``) in different clusters; add them as open suggestions (decided ones
        are left alone). Returns how many are new."""
        from ringtrace.linking.suggestions import near_duplicates

        texts: dict[int, str] = {}
        ring = self.keys()
        with self._connect() as conn:
            rows = conn.execute(
                select(
                    reports.c.id,
                    reports.c.source,
                    reports.c.external_id,
                    reports.c.document,
                    reports.c.document_key,
                ).where(reports.c.withdrawn_at.is_(None))
            ).all()
        for r in rows:
            doc = json.loads(
                open_document(
                    ring,
                    r.document,
                    r.document_key,
                    _aad(r.source, r.external_id),
                    what=f"report {r.id}",
                )
            )
            script = "\n".join(
                m.get("text", "")
                for m in doc.get("messages", [])
                if isinstance(m, dict) and m.get("from") == "offender"
            )
            if len(script) >= 40:
                texts[int(r.id)] = script
        pairs: list[tuple[str, int, int, float, LinkKey | None]] = [
            ("script", p.a, p.b, p.score, None) for p in near_duplicates(texts, threshold, backend)
        ]
        with self._connect() as conn:
            pairs += [
                ("lure_image", a, b, round(1.0 - d / 256, 3), None)
                for a, b, d in media_store.lure_pairs(conn, image_threshold)
            ]
            pairs += [
                ("shared_key", a, b, score, key)
                for a, b, score, key in corroboration.uncorroborated_pairs(conn)
            ]
        clusters = self.assignments()
        new = 0
        with self._write() as conn:
            seen = {
                (str(k), int(a), int(b))
                for k, a, b in conn.execute(
                    select(suggestions.c.kind, suggestions.c.report_a, suggestions.c.report_b)
                )
            }
            for kind, a, b, score, key in pairs:
                if clusters.get(a, a) == clusters.get(b, b) or (kind, a, b) in seen:
                    continue
                seen.add((kind, a, b))
                conn.execute(insert(suggestions).values(
                    kind=kind, report_a=a, report_b=b, score=score, status="open",
                    created_at=datetime.now(UTC), key_type=key.type if key else None,
                    key_value=key.value if key else None,
                ))  # fmt: skip
                new += 1
            audit.append(
                conn,
                self.actor,
                "suggestions.refresh",
                "store",
                {"candidates": len(pairs), "new": new},
            )
        return new

    def suggestions(self, status: str | None = "open") -> list[dict[str, Any]]:
        q = select(suggestions).order_by(suggestions.c.score.desc(), suggestions.c.id)
        if status:
            q = q.where(suggestions.c.status == status)
        with self._connect() as conn:
            rows = conn.execute(q).all()
        refs = self.refs([r.report_a for r in rows] + [r.report_b for r in rows]) if rows else {}
        return [
            {
                "id": r.id, "kind": r.kind, "score": r.score, "status": r.status, "reason": r.reason,
                "a": refs[r.report_a].to_dict(), "b": refs[r.report_b].to_dict(),
                **({"key": {"type": r.key_type, "value": r.key_value}} if r.key_type else {}),
            }
            for r in rows
        ]  # fmt: skip

    def decide_suggestion(
        self, suggestion_id: int, *, accept: bool, reason: str, actor: str | None = None
    ) -> None:
        """Accept (merge the two clusters) or reject a suggestion, with a reason; audited."""
        reason = analyst.require_reason(reason)
        with self._connect() as conn:
            row = conn.execute(select(suggestions).where(suggestions.c.id == suggestion_id)).first()
        if row is None:
            raise NotFound(f"no suggestion {suggestion_id}")
        if row.status != "open":
            raise Conflict(f"suggestion {suggestion_id} was already {row.status}")
        refs = self.refs([row.report_a, row.report_b])
        if accept:
            self.merge(
                refs[row.report_a],
                refs[row.report_b],
                reason=f"accepted suggestion {suggestion_id}: {reason}",
                actor=actor,
            )
        with self._write() as conn:
            conn.execute(
                update(suggestions).where(suggestions.c.id == suggestion_id)
                .values(status="accepted" if accept else "rejected", reason=reason, decided_by=actor or self.actor)
            )  # fmt: skip
            audit.append(conn, actor or self.actor, "suggestion.accept" if accept else "suggestion.reject",
                         f"suggestion:{suggestion_id}",
                         {"kind": row.kind, "score": row.score, "reports": [report_subject(refs[row.report_a]), report_subject(refs[row.report_b])], "reason": reason})  # fmt: skip

    # -- access control ----------------------------------------------------------------------

    def ensure_agency(self, code: str, name: str | None = None) -> None:
        from ringtrace.access import accounts

        with self._write() as conn:
            accounts.ensure_agency(conn, code, name)

    def agency_codes(self) -> set[str]:
        from ringtrace.access import accounts

        with self._connect() as conn:
            return accounts.agency_codes(conn)

    def agency_of_user(self, username: str) -> str | None:
        from ringtrace.access import accounts

        with self._connect() as conn:
            return accounts.agency_of_user(conn, username)

    def staffed_agencies(self) -> set[str]:
        from ringtrace.access import accounts

        with self._connect() as conn:
            return accounts.staffed_agencies(conn)

    def alert_crisis(self, agency: str, report_id: int, cluster_id: int) -> None:
        """Alert the people of ``agency`` that an urgent report arrived (dashboard, email)."""
        from ringtrace.access import accounts
        from ringtrace.access import alerts as alert_store

        with self._write() as conn:
            agency_id = accounts.ensure_agency(conn, agency)
            mails = alert_store.on_crisis_report(conn, agency_id, cluster_id, report_id,
                                                 self.public_url)  # fmt: skip
        for to, subject, body in mails if self.notifier is not None else []:
            try:
                self.notifier(to, subject, body)  # type: ignore[misc]
            except OSError as e:  # the alert stays on the dashboard either way
                log.warning("alert email not sent (%s)", type(e).__name__)

    def agency_users(self, agency: str) -> list[str]:
        from ringtrace.access import accounts

        with self._connect() as conn:
            return accounts.agency_users(conn, agency)

    def add_user(
        self,
        username: str,
        password: str,
        agency: str,
        role: str,
        *,
        totp: bool = False,
        actor: str | None = None,
        email: str | None = None,
    ) -> str | None:
        """Create a user (argon2id password); returns the TOTP secret when ``totp``."""
        from ringtrace.access import accounts

        with self._write() as conn:
            return accounts.add_user(
                conn,
                self.keys(),
                username,
                password,
                agency,
                role,
                actor=actor or self.actor,
                totp=totp,
                email=email,
            )

    def count_users(self) -> int:
        from ringtrace.access import accounts

        with self._connect() as conn:
            return accounts.count_users(conn)

    def login(
        self, username: str, password: str, code: str | None, hours: float
    ) -> tuple[Any, str]:
        """Verify a login and open a session: (principal, cookie value). Audited."""
        from ringtrace.access import accounts

        try:
            with self._write() as conn:
                who = accounts.verify_login(conn, self.keys(), username, password, code)
                token, csrf = accounts.create_session(conn, who.user_id, hours)
                audit.append(conn, who.actor, "login", f"user:{who.username}", {})
        except AuthError:
            # Recorded in a transaction of its own (the failed one is rolled back). What was
            # typed as a user name is named only if such a user exists: people sometimes type
            # their password there.
            with self._write() as conn:
                known = accounts.user_exists(conn, username)
                subject = f"user:{username}" if known else "user:(unknown)"
                audit.append(conn, "login", "login.failed", subject, {})
            raise
        from dataclasses import replace

        return replace(who, csrf_token=csrf), token

    def logout(self, token: str) -> None:
        from ringtrace.access import accounts

        with self._write() as conn:
            accounts.end_session(conn, token)

    def principal_for(self, *, session: str | None = None, token: str | None = None) -> Any:
        from ringtrace.access import accounts

        with self._connect() as conn:
            if token:
                return accounts.token_principal(conn, token)
            if session:
                return accounts.session_principal(conn, session)
        return None

    def create_token(self, username: str, name: str, actor: str | None = None) -> str:
        from ringtrace.access import accounts

        with self._write() as conn:
            return accounts.create_token(conn, username, name, actor=actor or self.actor)

    def triage_queue(
        self, own_reports: set[int], *, include_done: bool = False, now: datetime | None = None
    ) -> list[dict[str, Any]]:
        """An agency's reports, most urgent first, with the reasons and their triage state."""
        from ringtrace.store import triage as triage_store
        from ringtrace.triage.urgency import assess

        with self._connect() as conn:
            state = triage_store.states(conn)
        sizes = dict(self.cluster_ids(min_size=2))
        out = []
        for rid in sorted(own_reports):
            status, assignee = state.get(rid, ("new", None))
            if status in ("done", "referred") and not include_done:
                continue
            d = self.report(rid)
            if d.withdrawn:
                continue
            s = d.summary
            in_ring = s.cluster_size > 1 and s.cluster_id in sizes
            u = assess(d.document, in_ring=in_ring, received_at=s.received_at, now=now)
            out.append({
                "id": rid, "ref": s.ref, "received_at": s.received_at, "country": s.country,
                "cluster_id": s.cluster_id if in_ring else None, "cluster_size": s.cluster_size,
                "score": u.score, "reasons": u.reasons, "crisis": u.crisis, "alert": u.alert,
                "status": status, "assignee": assignee,
            })  # fmt: skip
        out.sort(key=_urgency_order)
        return out

    def triage_status(self, report_id: int) -> str:
        """Where one report stands in its agency's triage ("new" until someone acts)."""
        from ringtrace.store import triage as triage_store

        with self._connect() as conn:
            return triage_store.status_of(conn, report_id)

    def set_triage(
        self,
        report_id: int,
        *,
        status: str | None = None,
        assignee: str | None = None,
        actor: str | None = None,
    ) -> None:
        from ringtrace.store import triage as triage_store

        subject = report_subject(self.refs([report_id])[report_id])
        with self._write() as conn:
            triage_store.set_state(
                conn,
                report_id,
                subject,
                status=status,
                assignee=assignee,
                actor=actor or self.actor,
            )

    def reports_with_keys(self, keys: Sequence[LinkKey]) -> dict[int, list[LinkKey]]:
        """Which reports hold any of these keys (exact normalised values)."""
        out: dict[int, list[LinkKey]] = {}
        if not keys:
            return out
        cond = or_(*[(indicators.c.type == k.type) & (indicators.c.value == k.value) for k in keys])
        with self._connect() as conn:
            for rid, t, v in conn.execute(
                select(indicators.c.report_id, indicators.c.type, indicators.c.value).where(cond)
            ):
                out.setdefault(int(rid), []).append(LinkKey(str(t), str(v)))
        return out

    # -- case work (store/casework.py) ------------------------------------------------------

    def ring_case(self, cluster_id: int, agency: str) -> dict[str, Any]:
        with self._connect() as conn:
            return casework.ring_case(conn, cluster_id, agency)

    def ring_statuses(self, agency: str) -> dict[int, str]:
        with self._connect() as conn:
            return casework.ring_statuses(conn, agency)

    def set_ring_case(
        self, cluster_id: int, agency: str, *, status: str, owner: str | None, tags: list[str],
        actor: str,
    ) -> None:  # fmt: skip
        with self._write() as conn:
            casework.set_ring_case(conn, cluster_id, agency, status=status, owner=owner,
                                   tags=tags, actor=actor)  # fmt: skip

    def add_ring_note(self, cluster_id: int, agency: str, text: str, actor: str) -> int:
        with self._write() as conn:
            return casework.add_note(conn, cluster_id, agency, text, actor)

    def ring_notes(self, cluster_id: int, agency: str) -> list[dict[str, Any]]:
        with self._connect() as conn:
            return casework.notes(conn, cluster_id, agency)

    def watch_key(self, user_id: int, key: LinkKey, on: bool = True) -> None:
        with self._write() as conn:
            casework.set_key_watch(conn, user_id, key.type, key.value, on)

    def key_watched(self, user_id: int, key: LinkKey) -> bool:
        with self._connect() as conn:
            return casework.key_watched(conn, user_id, key.type, key.value)

    def watched_key_news(self, user_id: int) -> list[dict[str, Any]]:
        with self._connect() as conn:
            return casework.watched_key_news(conn, user_id)

    def create_export(self, user_id: int, cluster_id: int, fmt: str, actor: str) -> int:
        with self._write() as conn:
            return casework.create_export(conn, user_id, cluster_id, fmt, actor)

    def update_export(self, job_id: int, **values: Any) -> None:
        with self._write() as conn:
            casework.update_export(conn, job_id, **values)

    def export_job(self, job_id: int, user_id: int) -> dict[str, Any]:
        with self._connect() as conn:
            return casework.export_job(conn, job_id, user_id)

    def export_jobs(self, user_id: int) -> list[dict[str, Any]]:
        with self._connect() as conn:
            return casework.export_jobs_of(conn, user_id)

    def watch(self, user_id: int, cluster_id: int, on: bool = True) -> None:
        from ringtrace.access import alerts as alert_store

        with self._write() as conn:
            alert_store.set_watch(conn, user_id, cluster_id, on)

    def watched(self, user_id: int) -> set[int]:
        from ringtrace.access import alerts as alert_store

        with self._connect() as conn:
            return alert_store.watched(conn, user_id)

    def alerts_for(self, user_id: int, *, unseen_only: bool = True) -> list[dict[str, Any]]:
        from ringtrace.access import alerts as alert_store

        with self._connect() as conn:
            return alert_store.for_user(conn, user_id, unseen_only)

    def mark_alerts_seen(self, user_id: int) -> None:
        from ringtrace.access import alerts as alert_store

        with self._write() as conn:
            alert_store.mark_seen(conn, user_id)

    def create_followup(self, report_id: int, *, replace: bool = False) -> str:
        """A follow-up code for the reporter, shown once; only its SHA-256 is stored.
        ``replace``: a new code for a report whose first one never reached the reporter (the
        page showing it was cancelled by a second submit of the same form)."""
        import secrets

        from ringtrace.store.tables import followups

        code = "-".join(secrets.token_hex(3).upper() for _ in range(4))
        with self._write() as conn:
            if replace:
                conn.execute(update(followups).where(followups.c.report_id == report_id)
                             .values(code_hash=hashlib.sha256(code.encode()).hexdigest()))  # fmt: skip
                return code
            conn.execute(insert(followups).values(
                report_id=report_id, code_hash=hashlib.sha256(code.encode()).hexdigest(),
                created_at=datetime.now(UTC), additions=0,
            ))  # fmt: skip
        return code

    def check_followup(self, ref: ReportRef, code: str) -> int | None:
        """The report id when ``code`` is this report's follow-up code, else None."""
        import hmac

        from ringtrace.store.tables import followups

        try:
            rid = self.report_id(ref)
        except NotFound:
            return None
        with self._connect() as conn:
            row = conn.execute(
                select(followups.c.code_hash).where(followups.c.report_id == rid)
            ).first()
        given = hashlib.sha256(code.strip().upper().encode()).hexdigest()
        return rid if row is not None and hmac.compare_digest(str(row[0]), given) else None

    def count_followup_addition(self, report_id: int) -> int:
        from ringtrace.store.tables import followups

        with self._write() as conn:
            conn.execute(update(followups).where(followups.c.report_id == report_id)
                         .values(additions=followups.c.additions + 1))  # fmt: skip
            return int(
                conn.execute(
                    select(followups.c.additions).where(followups.c.report_id == report_id)
                ).scalar_one()
            )

    def followup_additions(self, report_id: int) -> int:
        from ringtrace.store.tables import followups

        with self._connect() as conn:
            v = conn.execute(
                select(followups.c.additions).where(followups.c.report_id == report_id)
            ).scalar()
        return int(v or 0)

    def ingested_times(self) -> dict[int, datetime]:
        with self._connect() as conn:
            rows = conn.execute(select(reports.c.id, reports.c.ingested_at)).all()
        return {int(r[0]): _utc(r[1]) for r in rows}

    def received_times(self, agency: str) -> list[datetime]:
        """When each of ``agency``'s reports was received (the dashboard's weekly counts)."""
        owned = self._owned_by(agency)
        q = select(reports.c.received_at)
        with self._connect() as conn:
            return [_utc(r[0]) for r in conn.execute(q if owned is None else q.where(owned))]

    def ids_of(self, refs: Sequence[ReportRef]) -> dict[ReportRef, int]:
        """Report ids of many references at once (:class:`NotFound` if one is missing)."""
        wanted = list(dict.fromkeys(refs))
        out: dict[ReportRef, int] = {}
        with self._connect() as conn:
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

    # -- APK analyses ------------------------------------------------------------------------

    def apk_pending(self) -> list[dict[str, Any]]:
        with self._connect() as conn:
            return apk_store.pending(conn)

    def apk_analyses(self, report_id: int) -> list[dict[str, Any]]:
        with self._connect() as conn:
            return apk_store.for_report(conn, report_id)

    def run_apk_analyses(
        self,
        *,
        progress: Callable[[int, int], None] | None = None,
        analyze: Callable[[bytes], dict[str, Any]] | None = None,
    ) -> dict[str, int]:
        """Run every queued analysis, each in a limited child process, and link the
        reports through what was found (audited). Returns counts by outcome."""
        from ringtrace.apk.analysis import ApkError
        from ringtrace.apk.sandbox import analyze_isolated

        run = analyze or analyze_isolated
        todo = self.apk_pending()
        counts = {"done": 0, "failed": 0, "retry": 0}
        for k, job in enumerate(todo, start=1):
            with self._job_lease(job["id"]) as mine:
                if not mine:
                    continue  # another worker is running it right now
                with self._write() as conn:
                    if not apk_store.claim(conn, job["id"]):
                        continue
                try:
                    result = run(self.vault.get(job["sha256"]))
                    error = None
                except ApkError as e:
                    result, error = None, (e.code, e.message)
                except RingtraceError as e:  # the evidence is gone (withdrawn) or damaged
                    result, error = None, (e.code, e.message)
                # A crash or a timeout may be the machine's, not the file's: try again, up
                # to a limit.
                retry = (
                    error is not None
                    and error[0] in ("crashed", "timeout")
                    and job["attempts"] + 1 < apk_store.MAX_ATTEMPTS
                )
                refs = self.refs([job["report_id"]])
                self._finish_apk(job, refs, result, error, retry)
            counts["done" if result is not None else ("retry" if retry else "failed")] += 1
            if progress:
                progress(k, len(todo))
        return counts

    @contextmanager
    def _job_lease(self, job_id: int) -> Iterator[bool]:
        """Whether this process may run job ``job_id`` now. On PostgreSQL a session advisory
        lock held while it runs: a "running" row whose lock is free was left by a dead
        worker (its connection closed, the lock went with it) and may be run again; one
        whose lock is held is being run. Embedded SQLite has one process."""
        if self.dialect != "postgresql":
            yield True
            return
        with self._connect() as conn:
            got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:ns, :id)"),
                                    {"ns": _PG_JOB_LOCKS, "id": job_id}).scalar())  # fmt: skip
            conn.commit()
            try:
                yield got
            finally:
                if got:
                    conn.execute(text("SELECT pg_advisory_unlock(:ns, :id)"),
                                 {"ns": _PG_JOB_LOCKS, "id": job_id})  # fmt: skip
                    conn.commit()

    def _finish_apk(
        self,
        job: dict[str, Any],
        refs: dict[int, ReportRef],
        result: dict[str, Any] | None,
        error: tuple[str, str] | None,
        retry: bool,
    ) -> None:
        with self._write() as conn:
            apk_store.finish(conn, job["id"], result=result, error=error, retry=retry)
            added = 0
            if result is not None:
                found = apk_store.new_keys(
                    conn, job["report_id"], apk_store.done_keys(conn, job["report_id"])
                )
                _apply_policy(found, analyst.cut_keys(conn))
                self._insert_indicators(conn, job["report_id"], found)
                added = len(found)
                if found:
                    components.recompute_around(
                        conn, {job["report_id"]}, keys=[i.key for i in found]
                    )
            audit.append(conn, self.actor, "apk.analyze", report_subject(refs[job["report_id"]]), {
                    "analysis": job["id"], "sha256": job["sha256"],
                    "status": "done" if result is not None else ("retry" if retry else "failed"),
                    "error": error[0] if error else None, "keys_added": added,
                    "risk": result["risk"]["level"] if result else None,
                })  # fmt: skip

    # -- media hashes and the takedown list ----------------------------------------------

    def media_for_report(self, report_id: int) -> dict[str, Any]:
        with self._connect() as conn:
            return media_store.for_report(conn, report_id)

    def takedown_entries(self, status: str | None = None) -> list[dict[str, Any]]:
        with self._connect() as conn:
            return media_store.entries(conn, status)

    def set_takedown_status(
        self, reference: str, status: str, *, reason: str, actor: str | None = None
    ) -> str:
        """Move a takedown entry along its lifecycle (audited); returns the old status."""
        reason = analyst.require_reason(reason)
        with self._write() as conn:
            return media_store.set_status(conn, reference, status, actor or self.actor, reason)

    def match_media(self, pdqs: Sequence[str], threshold: int = 31) -> list[list[dict[str, Any]]]:
        """For each hash, the stored lure hashes and takedown entries within ``threshold``.
        Uses the persisted indexes, updated with whatever was added since they were saved."""
        with self._connect() as conn:
            lure = media_store.usable_lure(conn)
            td_rows = conn.execute(
                select(
                    takedown.c.id, takedown.c.pdq, takedown.c.reference, takedown.c.status
                ).order_by(takedown.c.id)
            ).all()
        lure_owner = {mid: rid for mid, rid, _ in lure}
        live_td = {
            int(r.id): (str(r.reference), str(r.status)) for r in td_rows if r.status != "withdrawn"
        }
        lure_idx = media_store.SyncedIndex(self.media_dir / "lure").open(
            [(m, h) for m, _, h in lure]
        )
        td_idx = media_store.SyncedIndex(self.media_dir / "takedown").open(
            [(int(r.id), str(r.pdq)) for r in td_rows]
        )
        refs = self.refs(sorted(set(lure_owner.values()))) if lure_owner else {}
        out: list[list[dict[str, Any]]] = []
        for lure_hits, td_hits in zip(
            lure_idx.search(pdqs, threshold), td_idx.search(pdqs, threshold), strict=True
        ):
            found: list[dict[str, Any]] = [
                {"kind": "lure", "distance": d, "report": refs[lure_owner[i]].to_dict()}
                for i, d in lure_hits
                if i in lure_owner
            ]
            found += [
                {
                    "kind": "takedown",
                    "distance": d,
                    "reference": live_td[i][0],
                    "status": live_td[i][1],
                }
                for i, d in td_hits
                if i in live_td
            ]
            out.append(sorted(found, key=lambda f: f["distance"]))
        return out

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
        """Clusters of two or more reports (or the given ones), with their shared keys, in the
        order asked. Two queries per 500 clusters, whatever their size."""
        if ids is None:
            ids = [cid for cid, _ in self.cluster_ids()]
        return self.clusters_with_ids(ids)[0]

    def clusters_with_ids(
        self,
        ids: Sequence[int],
        entries: dict[int, tuple[str, str, int | None]] | None = None,
    ) -> tuple[list[Cluster], dict[ReportRef, int]]:
        """:meth:`clusters`, and the report id of every member (read by the same queries);
        ``entries`` is filled as :meth:`report_entries` would."""
        members: dict[int, dict[int, ReportRef]] = {}
        tlps: dict[int, str] = {}
        rows: dict[int, list[KeyRow]] = {}
        with self._connect() as conn:
            for i in range(0, len(ids), 500):
                chunk = list(ids[i : i + 500])
                for r in conn.execute(
                    select(
                        report_clusters.c.cluster_id, reports.c.id, reports.c.source,
                        reports.c.external_id, reports.c.tlp,
                    )
                    .join(report_clusters, report_clusters.c.report_id == reports.c.id)
                    .where(report_clusters.c.cluster_id.in_(chunk))
                ).all():  # fmt: skip
                    members.setdefault(int(r[0]), {})[int(r.id)] = ReportRef(
                        r.source, r.external_id
                    )
                    tlps[int(r.id)] = r.tlp
                for k in conn.execute(
                    select(
                        report_clusters.c.cluster_id, indicators.c.report_id, indicators.c.type,
                        indicators.c.value, indicators.c.excluded_reason,
                    )
                    .join(report_clusters, report_clusters.c.report_id == indicators.c.report_id)
                    .where(report_clusters.c.cluster_id.in_(chunk))
                ).all():  # fmt: skip
                    rows.setdefault(int(k[0]), []).append(
                        KeyRow(int(k.report_id), LinkKey(k.type, k.value), k.excluded_reason)
                    )
        found = [
            assemble_cluster(cid, members[cid], rows.get(cid, [])) for cid in ids if cid in members
        ]
        if entries is not None:  # what Sharing.view needs of each member, read here anyway
            for cid, m in members.items():
                for rid, ref in m.items():
                    entries[rid] = (ref.source, tlps[rid], cid if len(m) > 1 else None)
        return found, {ref: rid for m in members.values() for rid, ref in m.items()}

    def cluster_overview(self, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        """Per cluster: its members' sources and countries, and when the first and the last
        report were received (one aggregate query per 500 clusters)."""
        out: dict[int, dict[str, Any]] = {}
        with self._connect() as conn:
            for i in range(0, len(ids), 500):
                q = (
                    select(
                        report_clusters.c.cluster_id, reports.c.source, reports.c.country,
                        func.min(reports.c.received_at), func.max(reports.c.received_at),
                    )
                    .join(report_clusters, report_clusters.c.report_id == reports.c.id)
                    .where(report_clusters.c.cluster_id.in_(list(ids[i : i + 500])))
                    .group_by(report_clusters.c.cluster_id, reports.c.source, reports.c.country)
                )  # fmt: skip
                for cid, source, country, first, last in conn.execute(q):
                    o = out.setdefault(int(cid), {"sources": set(), "countries": set(),
                                                  "first": _utc(first), "last": _utc(last)})  # fmt: skip
                    o["sources"].add(source)
                    if country:
                        o["countries"].add(country)
                    o["first"] = min(o["first"], _utc(first))
                    o["last"] = max(o["last"], _utc(last))
        return out

    # -- what one agency may see (access/sharing.py asks these) -------------------------

    def _owned_by(self, agency: str) -> Any:
        """SQL condition: the report belongs to ``agency`` (its source, or the home agency
        for sources that are no agency here; as :meth:`Sharing.owner`). None when that is
        every report: the home agency of an instance with no other agency (no need to
        read the reports table at all)."""
        codes = self.agency_codes()
        if agency == self.home_agency:
            # Its own code, or no agency's code: not another agency's code.
            others = sorted(codes - {agency})
            return reports.c.source.not_in(others) if others else None
        return reports.c.source == agency if agency in codes else reports.c.id.is_(None)

    @staticmethod
    def _multi() -> Any:
        return (
            select(report_clusters.c.cluster_id)
            .group_by(report_clusters.c.cluster_id)
            .having(func.count() >= 2)
        )

    def owned_report_ids(self, agency: str) -> set[int]:
        owned = self._owned_by(agency)
        q = select(reports.c.id) if owned is None else select(reports.c.id).where(owned)
        with self._connect() as conn:
            return {int(r[0]) for r in conn.execute(q)}

    def shared_cluster_ids(self, agency: str) -> set[int]:
        """Clusters of two or more reports that hold at least one of ``agency``'s."""
        owned = self._owned_by(agency)
        if owned is None:  # every report is the agency's: every cluster is
            q = self._multi()
        else:
            q = (
                select(report_clusters.c.cluster_id)
                .join(reports, reports.c.id == report_clusters.c.report_id)
                .where(owned, report_clusters.c.cluster_id.in_(self._multi()))
                .distinct()
            )
        with self._connect() as conn:
            return {int(r[0]) for r in conn.execute(q)}

    def report_entries(self, ids: Iterable[int]) -> dict[int, tuple[str, str, int | None]]:
        """report id -> (source, tlp, cluster id when in a cluster of two or more)."""
        wanted = sorted({i for i in ids if 0 < i < 2**63})  # no row has another id
        out: dict[int, tuple[str, str, int | None]] = {}
        with self._connect() as conn:
            for i in range(0, len(wanted), 500):
                chunk = wanted[i : i + 500]
                rows = conn.execute(
                    select(
                        reports.c.id, reports.c.source, reports.c.tlp,
                        report_clusters.c.cluster_id,
                    )
                    .select_from(
                        reports.outerjoin(
                            report_clusters, report_clusters.c.report_id == reports.c.id
                        )
                    )
                    .where(reports.c.id.in_(chunk))
                ).all()  # fmt: skip
                clusters = {r[3] for r in rows if r[3] is not None}
                multi = {
                    int(c)
                    for (c,) in conn.execute(
                        self._multi().where(report_clusters.c.cluster_id.in_(sorted(clusters)))
                    )
                } if clusters else set()  # fmt: skip
                for r in rows:
                    out[int(r[0])] = (str(r[1]), str(r[2]), int(r[3]) if r[3] in multi else None)
        return out

    def visible_reports_page(
        self, agency: str, shared: set[int], *, limit: int, offset: int
    ) -> list[ReportSummary]:
        """Summaries of the reports ``agency`` may know exist (its own, and every member of
        a cluster it shares), newest first."""
        owned = self._owned_by(agency)
        q = self._summaries()
        if owned is not None:
            shared_too = report_clusters.c.cluster_id.in_(sorted(shared))
            q = q.where(or_(owned, shared_too) if shared else owned)
        with self._connect() as conn:
            return [self._summary(r) for r in conn.execute(q.limit(limit).offset(offset))]

    def cluster_members(self) -> dict[int, list[int]]:
        """Every report id grouped by cluster id (singletons included)."""
        out: dict[int, list[int]] = {}
        with self._connect() as conn:
            for rid, cid in conn.execute(
                select(report_clusters.c.report_id, report_clusters.c.cluster_id)
            ):
                out.setdefault(int(cid), []).append(int(rid))
        return out


def _urgency_order(r: dict[str, Any]) -> tuple[bool, int, float, int]:
    # Under 18 or self-harm first, whatever else scores: a person may be in danger.
    return (not r["crisis"], -int(r["score"]), -float(r["received_at"].timestamp()), int(r["id"]))


def _apply_policy(found: Sequence[Indicator], cuts: dict[LinkKey, str]) -> None:
    """Exclusions decided before linking: analysts' cuts and weak types."""
    for ind in found:
        if ind.key in cuts:
            ind.excluded_reason = analyst.CUT_PREFIX + cuts[ind.key]
        elif ind.excluded_reason is None and ind.type in WEAK_TYPES:
            ind.excluded_reason = WEAK_TYPES[ind.type]


def _indicator_row(report_id: int, ind: Indicator) -> dict[str, Any]:
    return {
        "report_id": report_id,
        "type": ind.type,
        "value": _stored_value(ind),
        "linkable": ind.linkable,
        "excluded_reason": ind.excluded_reason,
        "extractor": ind.extractor,
        "extractor_version": ind.extractor_version,
        "attributes": json.dumps(ind.attributes, sort_keys=True),
        "occurrences": json.dumps(_stored_occurrences(ind)),
        "strong": ind.strong,
    }


def _stored_value(ind: Indicator) -> str:
    # The reporter's own contact details are personal data: only a short digest is kept, so
    # the page can say "one of the numbers here was the reporter's own" without showing it.
    if ind.excluded_reason == OWN_CONTACT_REASON:
        return "withheld:" + hashlib.sha256(ind.value.encode()).hexdigest()[:16]
    return ind.value


def _stored_occurrences(ind: Indicator) -> list[dict[str, Any]]:
    occ = [o.to_dict() for o in ind.occurrences]
    if ind.excluded_reason == OWN_CONTACT_REASON:
        for o in occ:
            o["raw"] = "[withheld]"
    return occ


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
