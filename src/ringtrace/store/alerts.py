"""Watches and alerts (repository): who watches which ring, the alerts on each user's
dashboard. The SQL is in access/alerts.py; sending the emails is services/notifications.py."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ringtrace.access import accounts
from ringtrace.access import alerts as alert_rows

if TYPE_CHECKING:
    from ringtrace.store.database import Store

Mail = tuple[str, str, str]  # (to, subject, body)


class AlertRepo:
    def __init__(self, db: Store) -> None:
        self.db = db

    def crisis(self, agency: str, report_id: int, cluster_id: int) -> list[Mail]:
        """Alert the people of ``agency`` that an urgent report arrived (on their dashboards);
        returns the emails to send once committed."""
        with self.db.write() as conn:
            agency_id = accounts.ensure_agency(conn, agency)
            return alert_rows.on_crisis_report(
                conn, agency_id, cluster_id, report_id, self.db.public_url
            )

    def watch(self, user_id: int, cluster_id: int, on: bool = True) -> None:
        with self.db.write() as conn:
            alert_rows.set_watch(conn, user_id, cluster_id, on)

    def watched(self, user_id: int) -> set[int]:
        with self.db.read() as conn:
            return alert_rows.watched(conn, user_id)

    def for_user(self, user_id: int, *, unseen_only: bool = True) -> list[dict[str, Any]]:
        with self.db.read() as conn:
            return alert_rows.for_user(conn, user_id, unseen_only)

    def mark_seen(self, user_id: int) -> None:
        with self.db.write() as conn:
            alert_rows.mark_seen(conn, user_id)
