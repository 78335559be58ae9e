"""Emails for alerts, sent after the transaction that raised them has committed. A mail that
cannot be sent is logged without its address; the alert stays on the dashboard either way."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ringtrace.store.database import Store

log = logging.getLogger(__name__)


def send(store: Store, mails: Iterable[tuple[str, str, str]]) -> None:
    if store.notifier is None:
        return
    for to, subject, body in mails:
        try:
            store.notifier(to, subject, body)
        except OSError as e:
            log.warning("alert email not sent (%s)", type(e).__name__)


def alert_crisis(store: Store, agency: str, report_id: int, cluster_id: int) -> None:
    """Alert the people of ``agency`` that an urgent report arrived (dashboard, email)."""
    send(store, store.alerts.crisis(agency, report_id, cluster_id))
