"""Case work on rings, one record per agency: status, owner, tags and notes (audited);
identifiers a user watches; exports started from the console. SQL only: the permission
checks are in access/guards.py, the rendering in web/."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Connection,
    delete,
    insert,
    select,
    update,
)

from ringtrace.domain.models import LinkKey
from ringtrace.errors import (
    NotFound,
)
from ringtrace.store import audit_log as audit
from ringtrace.store.tables import (
    indicators,
    reports,
)

if TYPE_CHECKING:
    from ringtrace.store.database import Store


from ringtrace.errors import InvalidReport
from ringtrace.store.tables import (
    export_jobs,
    key_watches,
    ring_cases,
    ring_notes,
)

RING_STATUSES = ("new", "investigating", "referred", "closed")
EXPORT_FORMATS = ("stix", "misp", "csv", "court")
MAX_TAGS = 12


def ring_case(conn: Connection, cluster_id: int, agency: str) -> dict[str, Any]:
    row = conn.execute(
        select(ring_cases).where(
            ring_cases.c.cluster_id == cluster_id, ring_cases.c.agency == agency
        )
    ).first()
    if row is None:
        return {"status": "new", "owner": None, "tags": [], "updated_at": None}
    return {"status": row.status, "owner": row.owner, "tags": json.loads(row.tags),
            "updated_at": row.updated_at}  # fmt: skip


def ring_statuses(conn: Connection, agency: str) -> dict[int, str]:
    """cluster id -> status, for the agency's rings that have a case record."""
    q = select(ring_cases.c.cluster_id, ring_cases.c.status).where(ring_cases.c.agency == agency)
    return {int(r[0]): str(r[1]) for r in conn.execute(q)}


def clean_tags(text: str) -> list[str]:
    tags = sorted({t.strip().lower()[:40] for t in text.replace(";", ",").split(",") if t.strip()})
    if len(tags) > MAX_TAGS:
        raise InvalidReport(f"at most {MAX_TAGS} tags", field="tags")
    return tags


def set_ring_case(
    conn: Connection, cluster_id: int, agency: str, *, status: str, owner: str | None,
    tags: list[str], actor: str,
) -> None:  # fmt: skip
    if status not in RING_STATUSES:
        raise InvalidReport(f"status must be one of {', '.join(RING_STATUSES)}", field="status")
    now = datetime.now(UTC)
    values = {"status": status, "owner": owner or None, "tags": json.dumps(tags), "updated_at": now}
    where = (ring_cases.c.cluster_id == cluster_id, ring_cases.c.agency == agency)
    if conn.execute(select(ring_cases.c.status).where(*where)).first() is None:
        conn.execute(insert(ring_cases).values(cluster_id=cluster_id, agency=agency, **values))
    else:
        conn.execute(update(ring_cases).where(*where).values(**values))
    audit.append(conn, actor, "ring.case", f"cluster:{cluster_id}",
                 {"agency": agency, "status": status, "owner": owner or None, "tags": tags})  # fmt: skip


def add_note(conn: Connection, cluster_id: int, agency: str, text: str, actor: str) -> int:
    text = text.strip()
    if not 2 <= len(text) <= 5000:
        raise InvalidReport("a note is 2 to 5,000 characters", field="text")
    now = datetime.now(UTC)
    nid = conn.execute(
        insert(ring_notes).values(cluster_id=cluster_id, agency=agency, author=actor, text=text,
                                  at=now).returning(ring_notes.c.id)
    ).scalar_one()  # fmt: skip
    # The note's words may name people: the audit entry keeps its digest, not its text.
    digest = hashlib.sha256(text.encode()).hexdigest()
    audit.append(conn, actor, "ring.note", f"cluster:{cluster_id}",
                 {"agency": agency, "note": int(nid), "sha256": digest})  # fmt: skip
    return int(nid)


def notes(conn: Connection, cluster_id: int, agency: str) -> list[dict[str, Any]]:
    q = (
        select(ring_notes)
        .where(ring_notes.c.cluster_id == cluster_id, ring_notes.c.agency == agency)
        .order_by(ring_notes.c.id.desc())
    )
    return [{"id": r.id, "author": r.author, "text": r.text, "at": r.at} for r in conn.execute(q)]


def set_key_watch(conn: Connection, user_id: int, key_type: str, value: str, on: bool) -> None:
    where = (key_watches.c.user_id == user_id, key_watches.c.key_type == key_type,
             key_watches.c.key_value == value)  # fmt: skip
    conn.execute(delete(key_watches).where(*where))
    if on:
        conn.execute(insert(key_watches).values(user_id=user_id, key_type=key_type,
                                                key_value=value, created_at=datetime.now(UTC)))  # fmt: skip


def key_watched(conn: Connection, user_id: int, key_type: str, value: str) -> bool:
    q = select(key_watches.c.user_id).where(
        key_watches.c.user_id == user_id, key_watches.c.key_type == key_type,
        key_watches.c.key_value == value,
    )  # fmt: skip
    return conn.execute(q).first() is not None


def watched_key_news(conn: Connection, user_id: int, limit: int = 50) -> list[dict[str, Any]]:
    """Reports that arrived holding an identifier the user watches, after the watch began
    (newest first). The caller filters them through the sharing rules."""
    q = (
        select(key_watches.c.key_type, key_watches.c.key_value, reports.c.id, reports.c.ingested_at)
        .join(indicators, (indicators.c.type == key_watches.c.key_type)
              & (indicators.c.value == key_watches.c.key_value))
        .join(reports, reports.c.id == indicators.c.report_id)
        .where(key_watches.c.user_id == user_id, reports.c.ingested_at > key_watches.c.created_at,
               reports.c.withdrawn_at.is_(None))
        .order_by(reports.c.ingested_at.desc()).limit(limit)
    )  # fmt: skip
    return [{"key": LinkKey(r[0], r[1]), "report_id": int(r[2]), "at": r[3]}
            for r in conn.execute(q)]  # fmt: skip


def create_export(conn: Connection, user_id: int, cluster_id: int, fmt: str, actor: str) -> int:
    if fmt not in EXPORT_FORMATS:
        raise InvalidReport(f"format must be one of {', '.join(EXPORT_FORMATS)}", field="format")
    jid = conn.execute(
        insert(export_jobs).values(user_id=user_id, cluster_id=cluster_id, format=fmt,
                                   status="queued", progress=0, created_at=datetime.now(UTC))
        .returning(export_jobs.c.id)
    ).scalar_one()  # fmt: skip
    audit.append(conn, actor, "export.requested", f"cluster:{cluster_id}",
                 {"format": fmt, "job": int(jid)})  # fmt: skip
    return int(jid)


def update_export(conn: Connection, job_id: int, **values: Any) -> None:
    if values.get("status") in ("done", "failed"):
        values["finished_at"] = datetime.now(UTC)
    conn.execute(update(export_jobs).where(export_jobs.c.id == job_id).values(**values))


def export_job(conn: Connection, job_id: int, user_id: int) -> dict[str, Any]:
    """One of the user's own export jobs (nobody else's: a job is answered as unknown)."""
    row = conn.execute(
        select(export_jobs).where(export_jobs.c.id == job_id, export_jobs.c.user_id == user_id)
    ).first()
    if row is None:
        raise NotFound(f"no export {job_id}")
    return dict(row._mapping)


def export_jobs_of(conn: Connection, user_id: int, limit: int = 20) -> list[dict[str, Any]]:
    q = (select(export_jobs).where(export_jobs.c.user_id == user_id)
         .order_by(export_jobs.c.id.desc()).limit(limit))  # fmt: skip
    return [dict(r._mapping) for r in conn.execute(q)]


class CaseworkRepo:
    def __init__(self, db: Store) -> None:
        self.db = db

    def ring_case(self, cluster_id: int, agency: str) -> dict[str, Any]:
        with self.db.read() as conn:
            return ring_case(conn, cluster_id, agency)

    def ring_statuses(self, agency: str) -> dict[int, str]:
        with self.db.read() as conn:
            return ring_statuses(conn, agency)

    def set_ring_case(
        self, cluster_id: int, agency: str, *, status: str, owner: str | None, tags: list[str],
        actor: str,
    ) -> None:  # fmt: skip
        with self.db.write() as conn:
            set_ring_case(conn, cluster_id, agency, status=status, owner=owner,
                                   tags=tags, actor=actor)  # fmt: skip

    def add_note(self, cluster_id: int, agency: str, text: str, actor: str) -> int:
        with self.db.write() as conn:
            return add_note(conn, cluster_id, agency, text, actor)

    def notes(self, cluster_id: int, agency: str) -> list[dict[str, Any]]:
        with self.db.read() as conn:
            return notes(conn, cluster_id, agency)

    def watch_key(self, user_id: int, key: LinkKey, on: bool = True) -> None:
        with self.db.write() as conn:
            set_key_watch(conn, user_id, key.type, key.value, on)

    def key_watched(self, user_id: int, key: LinkKey) -> bool:
        with self.db.read() as conn:
            return key_watched(conn, user_id, key.type, key.value)

    def watched_key_news(self, user_id: int) -> list[dict[str, Any]]:
        with self.db.read() as conn:
            return watched_key_news(conn, user_id)

    def create_export(self, user_id: int, cluster_id: int, fmt: str, actor: str) -> int:
        with self.db.write() as conn:
            return create_export(conn, user_id, cluster_id, fmt, actor)

    def update_export(self, job_id: int, **values: Any) -> None:
        with self.db.write() as conn:
            update_export(conn, job_id, **values)

    def export_job(self, job_id: int, user_id: int) -> dict[str, Any]:
        with self.db.read() as conn:
            return export_job(conn, job_id, user_id)

    def export_jobs(self, user_id: int) -> list[dict[str, Any]]:
        with self.db.read() as conn:
            return export_jobs_of(conn, user_id)
