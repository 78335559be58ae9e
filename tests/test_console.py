"""Console features below the browser: urgency, triage state, alerts by email, pivot search
normalisation, and the user commands."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from typer.testing import CliRunner

from ringtrace.cli import app
from ringtrace.domain.models import LinkKey
from ringtrace.services import triage_queue
from ringtrace.services.intake import import_lines
from ringtrace.settings import Settings
from ringtrace.store import Store
from ringtrace.triage.urgency import assess, deadline_phrases, phrases, self_harm_phrases
from ringtrace.web.console import _search_keys
from tests.factories import line, report

NOW = datetime(2024, 7, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("I can't take it, I want to die", "en"),
        ("我真的不想活了", "zh-Hant"),
        ("我想自杀", "zh-Hans"),
        ("saya rasa nak bunuh diri", "ms"),
    ],
)
def test_self_harm_phrases_in_every_language(text: str, lang: str) -> None:
    assert self_harm_phrases(text), (lang, text)
    assert lang in phrases()["self_harm"]
    assert assess({"narrative": text}, in_ring=False, received_at=NOW, now=NOW).crisis


def test_urgency_reasons_and_order() -> None:
    base = {"narrative": "he has my video"}
    calm = assess(base, in_ring=False, received_at=NOW - timedelta(days=30), now=NOW)
    assert calm.score == 0 and not calm.crisis
    minor = assess({**base, "reporter": {"age_band": "under-18"}}, in_ring=False,
                   received_at=NOW, now=NOW)  # fmt: skip
    assert minor.crisis and "the reporter is under 18" in minor.reasons
    threat = {**base, "messages": [{"from": "offender", "text": "Pay within 24 hours or else"}]}
    deadline = assess(threat, in_ring=True, received_at=NOW, now=NOW)
    # A deadline within hours counts more than a later one, and raises an alert.
    assert deadline.score == 50 + 40 + 20 and deadline.alert and not deadline.crisis
    later = {**base, "messages": [{"from": "offender", "text": "Last chance, pay"}]}
    assert assess(later, in_ring=True, received_at=NOW, now=NOW).score == 30 + 40 + 20
    assert deadline_phrases("24小時內轉帳") and not deadline_phrases("hello")
    # The victim's own words count for self-harm; the offender's do not.
    taunt = {"messages": [{"from": "offender", "text": "kill yourself"}]}
    assert not assess(taunt, in_ring=False, received_at=NOW, now=NOW).crisis


def test_triage_queue_and_state(sqlite_store: Store) -> None:
    import_lines(sqlite_store, [
        line(report(external_id="Q-1", narrative="nothing special")),
        line(report(external_id="Q-2", narrative="I want to end my life",
                    reporter={"age_band": "under-18"})),
    ])  # fmt: skip
    sqlite_store.accounts.add_user("worker", "a long enough password", "test-agency", "analyst")
    own = {r.id for r in sqlite_store.reports.page(limit=10**6)}
    queue = triage_queue.queue(sqlite_store, own)
    assert [q["ref"].external_id for q in queue] == ["Q-2", "Q-1"]
    rid = queue[0]["id"]
    sqlite_store.triage.set(rid, status="in_progress", assignee="worker", actor="user:worker")
    sqlite_store.triage.set(rid, status="done", actor="user:worker")
    assert [q["ref"].external_id for q in triage_queue.queue(sqlite_store, own)] == ["Q-1"]
    entries = sqlite_store.audit.entries(["report:test-agency/Q-2"])
    assert [e.action for e in entries].count("triage.update") == 2


class _Sink:
    """A local SMTP server that keeps what it receives (aiosmtpd)."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[Any] = []
        sink = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                sink.messages.append(envelope)
                return "250 OK"

        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)


def test_watchers_get_an_alert_and_an_email(sqlite_settings: Settings) -> None:
    sink = _Sink()
    sink.controller.start()
    try:
        smtp = {
            "smtp_host": "127.0.0.1",
            "smtp_port": sink.port,
            "public_url": "https://rt.example",
        }
        settings = sqlite_settings.model_copy(update=smtp)
        store = Store.open(settings)
        store.migrate()
        store.accounts.add_user("watcher", "a long enough password", "test-agency", "analyst",
                       email="watcher@agency.invalid")  # fmt: skip
        # The number is the offender's by a structured field: mentioned only in passing by
        # three otherwise unrelated reports, it would be a suggestion, not a link.
        first = report(
            external_id="W-1",
            narrative="call +85261234567",
            offender_identifiers=[{"type": "phone", "value": "+85261234567"}],
        )
        second = report(external_id="W-2", narrative="+852 6123 4567 again")
        import_lines(store, [line(first), line(second)])
        cluster = store.clusters.many()[0].id
        uid = store.accounts.principal_for(
            token=store.accounts.create_token("watcher", "t")
        ).user_id
        store.alerts.watch(uid, cluster)
        import_lines(store, [line(report(external_id="W-3", narrative="he used 61234567",
                                         reporter={"country": "HK"}))])  # fmt: skip
        [alert] = store.alerts.for_user(uid)
        assert alert["cluster_id"] == cluster and alert["emailed"] is True
        deadline = time.monotonic() + 5
        while not sink.messages and time.monotonic() < deadline:
            time.sleep(0.05)
        [mail] = sink.messages
        body = mail.content.decode()
        assert mail.rcpt_tos == ["watcher@agency.invalid"]
        assert f"https://rt.example/console/clusters/{cluster}" in body
        assert "61234567" not in body  # a link, never report content
        store.alerts.mark_seen(uid)
        assert store.alerts.for_user(uid) == []
        store.close()
    finally:
        sink.controller.stop()


def test_pivot_search_normalises_what_victims_write() -> None:
    keys = set(_search_keys("hxxp://chat-priv[.]top/app.apk"))
    assert LinkKey("domain", "chat-priv.top") in keys
    assert LinkKey("phone", "+85261234567") in set(_search_keys("+852 6123-4567"))
    assert LinkKey("telegram", "ringboss") in set(_search_keys("@ringboss"))


def test_user_commands(tmp_path: Any) -> None:
    runner = CliRunner()
    env = {"RINGTRACE_DATA_DIR": str(tmp_path / "d"), "RINGTRACE_HOME_AGENCY": "sg-police"}
    first = runner.invoke(app, ["init"], env=env)
    assert first.exit_code == 0 and "first admin created" in first.stdout
    assert "first admin" not in runner.invoke(app, ["init"], env=env).stdout  # only once
    r = runner.invoke(app, ["user", "add", "ana", "--agency", "sg-police", "--role", "analyst"],
                      input="a long enough password\n", env=env)  # fmt: skip
    assert r.exit_code == 0, r.output
    short = runner.invoke(app, ["user", "add", "bob", "--agency", "sg-police"], input="short\n",
                          env=env)  # fmt: skip
    assert short.exit_code == 2 and "12 characters" in short.output
    bad_role = runner.invoke(app, ["user", "add", "cy", "--agency", "x", "--role", "boss"],
                             input="a long enough password\n", env=env)  # fmt: skip
    assert bad_role.exit_code == 2
    token = runner.invoke(app, ["user", "token", "ana", "--name", "ci"], env=env).stdout.strip()
    assert token.startswith("rt_")
    store = Store.open(Settings(data_dir=tmp_path / "d"))
    who = store.accounts.principal_for(token=token)
    assert (who.username, who.role, who.agency) == ("ana", "analyst", "sg-police")
    store.close()


def test_weekly_counts_are_the_agencys_own(sqlite_store: Store) -> None:
    """The dashboard's reports per week: the viewer's agency's reports only (a source that
    is no agency here belongs to the home agency)."""
    sqlite_store.accounts.ensure_agency("hk-police")
    import_lines(sqlite_store, [
        line(report(external_id="A-1", received_at="2024-07-02T10:00:00+08:00")),
        line(report(external_id="A-2", received_at="2024-07-09T10:00:00+08:00")),
        line(report(external_id="B-1", source="hk-police",
                    received_at="2024-07-03T10:00:00+08:00")),
    ])  # fmt: skip
    home = sorted(
        t.isocalendar()[:2]
        for t in sqlite_store.visibility.received_times(sqlite_store.home_agency)
    )
    other = [t.isocalendar()[:2] for t in sqlite_store.visibility.received_times("hk-police")]
    assert home == [(2024, 27), (2024, 28)]
    assert other == [(2024, 27)]
    assert sqlite_store.visibility.received_times("nobody") == []
