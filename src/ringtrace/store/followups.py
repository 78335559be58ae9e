"""Follow-up codes (repository): only a code's SHA-256 is stored; additions are counted."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    Connection,
    insert,
    select,
    update,
)

from ringtrace.domain.models import ReportRef
from ringtrace.errors import (
    NotFound,
)
from ringtrace.store.tables import followups

if TYPE_CHECKING:
    from ringtrace.store.database import Store


class FollowupRepo:
    def __init__(self, db: Store) -> None:
        self.db = db

    def create(self, report_id: int, *, replace: bool = False) -> str:
        """A follow-up code for the reporter, shown once; only its SHA-256 is stored.
        ``replace``: a new code for a report whose first one never reached the reporter (the
        page showing it was cancelled by a second submit of the same form)."""
        import secrets

        code = "-".join(secrets.token_hex(3).upper() for _ in range(4))
        with self.db.write() as conn:
            if replace:
                conn.execute(
                    update(followups)
                    .where(followups.c.report_id == report_id)
                    .values(code_hash=hashlib.sha256(code.encode()).hexdigest())
                )
                return code
            conn.execute(
                insert(followups).values(
                    report_id=report_id,
                    code_hash=hashlib.sha256(code.encode()).hexdigest(),
                    created_at=datetime.now(UTC),
                    additions=0,
                )
            )
        return code

    def check(self, ref: ReportRef, code: str) -> int | None:
        """The report id when ``code`` is this report's follow-up code, else None."""
        import hmac

        try:
            rid = self.db.reports.id_of(ref)
        except NotFound:
            return None
        with self.db.read() as conn:
            row = conn.execute(
                select(followups.c.code_hash).where(followups.c.report_id == rid)
            ).first()
        given = hashlib.sha256(code.strip().upper().encode()).hexdigest()
        return rid if row is not None and hmac.compare_digest(str(row[0]), given) else None

    def additions(self, report_id: int) -> int:
        with self.db.read() as conn:
            v = conn.execute(
                select(followups.c.additions).where(followups.c.report_id == report_id)
            ).scalar()
        return int(v or 0)


def count_addition(conn: Connection, report_id: int) -> int:
    """Count one more addition to ``report_id`` in the caller's transaction; the new count."""
    conn.execute(
        update(followups)
        .where(followups.c.report_id == report_id)
        .values(additions=followups.c.additions + 1)
    )
    return int(
        conn.execute(
            select(followups.c.additions).where(followups.c.report_id == report_id)
        ).scalar_one()
    )
