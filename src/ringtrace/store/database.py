"""The store: one unit of work over SQLAlchemy Core, the same code on SQLite and PostgreSQL.

:class:`Store` opens connections and write transactions (the linker's lock taken), holds the
key ring and the vault, and gives one repository per concern (``store.reports``,
``store.clusters``, ``store.accounts``, ...; each in its own module of this package). What
to do with them, and who may, is decided in :mod:`ringtrace.services`.

Reports are inserted once and never updated. Indicators and cluster assignments are derived
and can be dropped and rebuilt from the reports at any time (services/relink.py).
"""

from __future__ import annotations

import contextlib
import getpass
import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
    create_engine,
    event,
    text,
)
from sqlalchemy.exc import OperationalError

from ringtrace.errors import (
    ConfigurationError,
    RingtraceError,
    StoreUnavailable,
)
from ringtrace.evidence.keys import KeySource
from ringtrace.evidence.vault import Vault
from ringtrace.settings import Settings
from ringtrace.store import audit_log as audit
from ringtrace.store import integrity, view_columns
from ringtrace.store.accounts import AccountRepo
from ringtrace.store.alerts import AlertRepo
from ringtrace.store.apk import ApkRepo
from ringtrace.store.audit_log import AuditRepo
from ringtrace.store.casework import CaseworkRepo
from ringtrace.store.clusters import ClusterRepo
from ringtrace.store.followups import FollowupRepo
from ringtrace.store.group_commit import GroupCommit
from ringtrace.store.media import MediaRepo
from ringtrace.store.reports import ReportRepo
from ringtrace.store.suggestions import SuggestionRepo
from ringtrace.store.triage import TriageRepo
from ringtrace.store.visibility import VisibilityRepo

SYSTEM = "system"

log = logging.getLogger(__name__)

# Any constant: serialises the linking step across processes on PostgreSQL.
_PG_LINK_LOCK = 0x52494E47
ANCHOR_EVERY_S = 10.0  # the audit anchor follows the log at most this far behind


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


class Store:
    """The unit of work over one database and its vault; its repositories read and write
    one concern each (store/<concern>.py), the services (ringtrace.services) decide."""

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
        # This process's group-commit writer (services/intake.py starts it on first use).
        self.writer: GroupCommit | None = None
        self._anchored_at = float("-inf")
        self.reports = ReportRepo(self)
        self.clusters = ClusterRepo(self)
        self.visibility = VisibilityRepo(self)
        self.accounts = AccountRepo(self)
        self.casework = CaseworkRepo(self)
        self.alerts = AlertRepo(self)
        self.followups = FollowupRepo(self)
        self.triage = TriageRepo(self)
        self.media = MediaRepo(self)
        self.apk = ApkRepo(self)
        self.audit = AuditRepo(self)
        self.suggestions = SuggestionRepo(self)

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

    def close(self) -> None:
        if self.writer is not None:
            self.writer.stop()
        with contextlib.suppress(RingtraceError, OSError), self.read() as conn:
            if self._anchored_at > float("-inf"):  # this process wrote: anchor its last write
                self.maybe_anchor(conn, force=True)
        self.engine.dispose()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def migrate(self) -> None:
        """Bring the schema to the newest migration and create the key file if there is
        none (idempotent)."""
        self.keys.ensure()
        with self.read() as conn:
            command.upgrade(_alembic_config(conn), "head")
            conn.commit()
        with self.write() as conn:
            sealed = integrity.seal_legacy(conn, self.keys)
            if sealed:
                audit.append(conn, self.actor, "integrity.seal_legacy", "store",
                             {"rows": sealed})  # fmt: skip
            filled = view_columns.fill(conn, self.keys)
            if filled:
                audit.append(conn, self.actor, "reports.fill_view_columns", "store",
                             {"rows": filled})  # fmt: skip

    def schema_revision(self) -> str | None:
        with self.read() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def ensure_ready(self) -> None:
        """Fail with a clear message unless the schema is at the newest migration."""
        with self.read() as conn:
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
    def read(self) -> Iterator[Connection]:
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
    def write(self) -> Iterator[Connection]:
        with self.read() as conn:
            with conn.begin():
                self.take_link_lock(conn)
                yield conn
            self.maybe_anchor(conn)

    def integrity_key(self) -> bytes:
        return self.keys().integrity_key()

    @property
    def anchor_file(self) -> Path:
        return self.keys.key_file.parent / "audit-anchor.json"

    def maybe_anchor(self, conn: Connection, *, force: bool = False) -> None:
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

    def take_link_lock(self, conn: Connection) -> None:
        """Serialise the linker's writers (SQLite's BEGIN IMMEDIATE already has)."""
        if self.dialect == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LINK_LOCK})


def open_store(settings: Settings) -> Store:
    return Store.open(settings)
