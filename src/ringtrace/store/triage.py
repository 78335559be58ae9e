"""The triage queue's state: status and assignment per report, audited."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Connection,
    insert,
    select,
    update,
)

from ringtrace.errors import (
    NotFound,
)
from ringtrace.store import audit_log as audit
from ringtrace.store.rows import (
    report_subject,
)

if TYPE_CHECKING:
    from ringtrace.store.database import Store


from ringtrace.errors import InvalidReport
from ringtrace.store.tables import triage, users

STATUSES = ("new", "in_progress", "done", "referred")


def states(conn: Connection) -> dict[int, tuple[str, str | None]]:
    """report id -> (status, assigned username)."""
    q = select(triage.c.report_id, triage.c.status, users.c.username).select_from(
        triage.outerjoin(users, users.c.id == triage.c.assigned_to)
    )
    return {int(r[0]): (str(r[1]), r[2]) for r in conn.execute(q)}


def status_of(conn: Connection, report_id: int) -> str:
    row = conn.execute(select(triage.c.status).where(triage.c.report_id == report_id)).first()
    return str(row[0]) if row else "new"


def set_state(
    conn: Connection, report_id: int, subject: str, *, status: str | None, assignee: str | None,
    actor: str,
) -> None:  # fmt: skip
    if status is not None and status not in STATUSES:
        raise InvalidReport(f"status must be one of {', '.join(STATUSES)}", field="status")
    user_id = None
    if assignee:
        row = conn.execute(select(users.c.id).where(users.c.username == assignee)).first()
        if row is None:
            raise NotFound(f"no user {assignee}")
        user_id = int(row[0])
    now = datetime.now(UTC)
    existing = conn.execute(select(triage).where(triage.c.report_id == report_id)).first()
    values: dict[str, Any] = {"updated_at": now}
    if status is not None:
        values["status"] = status
    if assignee is not None:
        values["assigned_to"] = user_id
    if existing is None:
        conn.execute(insert(triage).values(
            report_id=report_id, status=values.get("status", "new"),
            assigned_to=values.get("assigned_to"), updated_at=now,
        ))  # fmt: skip
    else:
        conn.execute(update(triage).where(triage.c.report_id == report_id).values(**values))
    audit.append(conn, actor, "triage.update", subject, {"status": status, "assignee": assignee})


class TriageRepo:
    def __init__(self, db: Store) -> None:
        self.db = db

    def status(self, report_id: int) -> str:
        """Where one report stands in its agency's triage ("new" until someone acts)."""

        with self.db.read() as conn:
            return status_of(conn, report_id)

    def set(
        self,
        report_id: int,
        *,
        status: str | None = None,
        assignee: str | None = None,
        actor: str | None = None,
    ) -> None:

        subject = report_subject(self.db.reports.refs([report_id])[report_id])
        with self.db.write() as conn:
            set_state(
                conn,
                report_id,
                subject,
                status=status,
                assignee=assignee,
                actor=actor or self.db.actor,
            )
