"""Watching rings: an alert for each watcher when a new report joins a watched ring, on the
dashboard and, when an SMTP server is configured, by email (with a link, never report
content)."""

from __future__ import annotations

import smtplib
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from ringtrace.store.tables import alerts, users, watches


def set_watch(conn: Connection, user_id: int, cluster_id: int, on: bool) -> None:
    conn.execute(
        delete(watches).where(watches.c.user_id == user_id, watches.c.cluster_id == cluster_id)
    )
    if on:
        conn.execute(
            insert(watches).values(
                user_id=user_id, cluster_id=cluster_id, created_at=datetime.now(UTC)
            )
        )


def watched(conn: Connection, user_id: int) -> set[int]:
    return {
        int(r[0])
        for r in conn.execute(select(watches.c.cluster_id).where(watches.c.user_id == user_id))
    }


def watchers(conn: Connection) -> dict[int, list[tuple[int, str | None]]]:
    """cluster id -> (user id, email) of its active watchers."""
    out: dict[int, list[tuple[int, str | None]]] = {}
    for cid, uid, email in conn.execute(
        select(watches.c.cluster_id, users.c.id, users.c.email)
        .join(watches, watches.c.user_id == users.c.id)
        .where(users.c.active.is_(True))
        .order_by(users.c.id)
    ):
        out.setdefault(int(cid), []).append((int(uid), email))
    return out


def on_new_member(
    conn: Connection,
    cluster_id: int,
    report_id: int,
    base_url: str,
    watching: dict[int, list[tuple[int, str | None]]] | None = None,
) -> list[tuple[str, str, str]]:
    """Record alerts for the watchers of ``cluster_id``; returns the emails to send.
    ``watching``: :func:`watchers`, when the caller has read it for several reports."""
    if watching is None:
        watching = watchers(conn)
    rows = watching.get(cluster_id, [])
    mails = []
    for uid, email in rows:
        conn.execute(
            insert(alerts).values(
                user_id=uid,
                cluster_id=cluster_id,
                report_id=report_id,
                created_at=datetime.now(UTC),
                seen_at=None,
                emailed=bool(email),
            )
        )
        if email:
            mails.append(
                (
                    str(email),
                    f"ringtrace: a new report joined ring {cluster_id}",
                    "A new report joined a ring you watch.\n\n"
                    f"{base_url}/console/clusters/{cluster_id}\n",
                )
            )
    return mails


def on_crisis_report(
    conn: Connection, agency_id: int, cluster_id: int, report_id: int, base_url: str
) -> list[tuple[str, str, str]]:
    """An alert for every active user of the agency that received a crisis report (under 18,
    self-harm, a deadline within hours); returns the emails to send (a link, no content)."""
    rows = conn.execute(
        select(users.c.id, users.c.email).where(
            users.c.agency_id == agency_id, users.c.active.is_(True)
        )
    ).all()
    mails = []
    for uid, email in rows:
        conn.execute(
            insert(alerts).values(
                user_id=uid, cluster_id=cluster_id, report_id=report_id,
                created_at=datetime.now(UTC), seen_at=None, emailed=bool(email),
            )
        )  # fmt: skip
        if email:
            link = f"{base_url}/console/reports/{report_id}"
            body = f"An urgent report arrived in your triage queue.\n\n{link}\n"
            mails.append((str(email), "ringtrace: an urgent report arrived", body))
    return mails


def for_user(conn: Connection, user_id: int, unseen_only: bool) -> list[dict[str, Any]]:
    q = select(alerts).where(alerts.c.user_id == user_id).order_by(alerts.c.id.desc()).limit(50)
    if unseen_only:
        q = q.where(alerts.c.seen_at.is_(None))
    return [dict(r._mapping) for r in conn.execute(q)]


def mark_seen(conn: Connection, user_id: int) -> None:
    conn.execute(
        update(alerts)
        .where(alerts.c.user_id == user_id, alerts.c.seen_at.is_(None))
        .values(seen_at=datetime.now(UTC))
    )


def smtp_sender(host: str, port: int, sender: str) -> Callable[[str, str, str], None]:
    def send(to: str, subject: str, body: str) -> None:
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = sender, to, subject
        msg.set_content(body)
        with smtplib.SMTP(host, port, timeout=10) as smtp:
            smtp.send_message(msg)

    return send
