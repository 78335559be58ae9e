"""The columns kept for lists (store/view_columns.py): the triage page opens no document,
the kept urgency is what the document says, rows from before migration 0013 are filled by
`ringtrace init`, and a withdrawal erases the reasons; on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from ringtrace.domain.models import ReportRef
from ringtrace.evidence.integrity import report_mac
from ringtrace.evidence.keys import KeyRing
from ringtrace.services import erasure, integrity_check, triage_queue
from ringtrace.services.intake import import_lines
from ringtrace.settings import Settings
from ringtrace.store import Store
from ringtrace.store.integrity import REPORT_COLUMNS
from ringtrace.store.tables import reports
from ringtrace.triage.urgency import assess
from ringtrace.web.app import create_app
from tests.factories import line, report

VIEW = ("consent_share", "urgency_points", "urgency_crisis", "urgency_alert", "urgency_reasons")
PHONE = "+6591234567"


def _docs() -> list[dict[str, Any]]:
    offender = [{"type": "phone", "value": PHONE}]
    return [
        report(source="agency-a", external_id="A-MINOR", reporter={"age_band": "under-18"},
               narrative="He wants money."),
        report(source="agency-a", external_id="A-HOURS", offender_identifiers=offender,
               reporter={"consent_share": True},
               messages=[{"from": "offender", "text": "Pay within 24 hours or else"}]),
        report(source="agency-a", external_id="A-RING", offender_identifiers=offender,
               narrative="The same man."),
        report(source="agency-a", external_id="A-PLAIN", narrative="Nothing urgent."),
    ]  # fmt: skip


def _ids(store: Store) -> dict[str, int]:
    return {d["external_id"]: store.reports.id_of(ReportRef(d["source"], d["external_id"]))
            for d in _docs()}  # fmt: skip


@pytest.fixture
def seeded(store: Store) -> Store:
    import_lines(store, [line(d) for d in _docs()])
    return store


def _row(store: Store, rid: int) -> Any:
    with store.engine.connect() as conn:
        return conn.execute(select(*REPORT_COLUMNS).where(reports.c.id == rid)).one()


def test_the_kept_urgency_is_what_the_document_says(seeded: Store) -> None:
    """The queue from the columns equals the urgency worked out from each document."""
    ids = _ids(seeded)
    queue = triage_queue.queue(seeded, set(ids.values()))
    assert queue[0]["ref"].external_id == "A-MINOR"  # a crisis comes first
    for q in queue:
        d = seeded.reports.get(q["id"])
        in_ring = q["cluster_id"] is not None
        u = assess(d.document, in_ring=in_ring, received_at=d.summary.received_at)
        assert (q["score"], q["reasons"], q["crisis"], q["alert"]) == (
            u.score, u.reasons, u.crisis, u.alert,
        )  # fmt: skip
    hours = next(q for q in queue if q["ref"].external_id == "A-HOURS")
    assert hours["alert"] and not hours["crisis"] and "linked to a known ring" in hours["reasons"]
    views = seeded.reports.views(ids.values())
    assert [v.consent_share for v in views.values()] == [False, True, False, False]


def test_the_triage_and_search_pages_open_no_document(
    backend_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = backend_settings.model_copy(update={"home_agency": "agency-a"})
    store = Store.open(settings)
    store.migrate()
    import_lines(store, [line(d) for d in _docs()])
    store.accounts.ensure_agency("agency-a")
    store.accounts.add_user("analyst@agency-a", "view-columns-password", "agency-a", "analyst")
    token = store.accounts.create_token("analyst@agency-a", "tests")
    store.close()
    opened: list[str] = []
    real_open = KeyRing.open

    def counting_open(self: KeyRing, sealed: bytes, aad: bytes, *, what: str) -> bytes:
        opened.append(what)
        return real_open(self, sealed, aad, what=what)

    monkeypatch.setattr(KeyRing, "open", counting_open)  # every decryption goes through it
    headers = {"Authorization": f"Bearer {token}"}
    with TestClient(create_app(settings), base_url="https://testserver") as client:
        page = client.get("/console/triage", headers=headers)
        search = client.get("/console/search", params={"q": PHONE}, headers=headers)
    assert page.status_code == 200, page.text
    assert "the reporter is under 18" in page.text and "deadline within hours" in page.text
    assert page.text.index("A-MINOR") < page.text.index("A-PLAIN")
    assert search.status_code == 200 and "A-HOURS" in search.text and "A-RING" in search.text
    assert "A-PLAIN" not in search.text
    assert opened == []


def _as_before_0013(store: Store) -> dict[int, dict[str, Any]]:
    """Make every report row what migration 0012 left: no view columns, a report/v1 MAC.
    Returns what the columns held."""
    key = store.integrity_key()
    kept = {}
    with store.engine.begin() as conn:
        for row in conn.execute(select(*REPORT_COLUMNS)).all():
            values = row._asdict()
            kept[int(row.id)] = {c: values[c] for c in VIEW}
            legacy = {k: v for k, v in values.items() if k not in VIEW}
            conn.execute(
                update(reports)
                .where(reports.c.id == row.id)
                .values(**dict.fromkeys(VIEW), mac=report_mac(key, legacy))
            )
    return kept


def test_rows_from_before_0013_are_filled_by_init(seeded: Store) -> None:
    from alembic import command
    from alembic.script import ScriptDirectory

    from ringtrace.store.database import _alembic_config

    ids = _ids(seeded)
    kept = _as_before_0013(seeded)
    assert integrity_check.check(seeded) == []  # a v1 row checks out as it did
    tampered = ids["A-PLAIN"]
    with seeded.engine.begin() as conn:
        conn.execute(update(reports).where(reports.c.id == tampered).values(tlp="clear"))
    with seeded.engine.connect() as conn:
        command.downgrade(_alembic_config(conn), "0012")
        conn.commit()
    assert seeded.schema_revision() == "0012"

    seeded.migrate()  # `ringtrace init`: migration 0013 (and later ones), then the fill
    with seeded.engine.connect() as conn:
        head = ScriptDirectory.from_config(_alembic_config(conn)).get_current_head()
    assert seeded.schema_revision() == head
    for name, rid in ids.items():
        row = _row(seeded, rid)
        if rid == tampered:  # its document is not trusted to decide anything
            assert row.urgency_points is None, name
        else:
            assert {c: getattr(row, c) for c in VIEW} == kept[rid], name
    problems = integrity_check.check(seeded)
    assert len(problems) == 1 and f"report {tampered}" in problems[0], problems
    [entry] = [e for e in seeded.audit.entries() if e.action == "reports.fill_view_columns"]
    assert json.loads(entry.details) == {"rows": len(ids) - 1}
    seeded.migrate()  # nothing left to fill: no second entry
    assert [e.action for e in seeded.audit.entries()].count("reports.fill_view_columns") == 1


def test_a_row_not_filled_yet_is_worked_out_from_its_document(seeded: Store) -> None:
    ids = _ids(seeded)
    before = triage_queue.queue(seeded, set(ids.values()))
    _as_before_0013(seeded)
    assert triage_queue.queue(seeded, set(ids.values())) == before


def test_a_withdrawal_erases_the_kept_reasons(seeded: Store) -> None:
    ids = _ids(seeded)
    erasure.withdraw(seeded, ReportRef("agency-a", "A-MINOR"), reason="asked by the reporter")
    row = _row(seeded, ids["A-MINOR"])
    assert (row.urgency_points, row.urgency_crisis, json.loads(row.urgency_reasons)) == (
        0, False, [],
    )  # fmt: skip
    assert integrity_check.check(seeded) == []
    assert ids["A-MINOR"] not in {q["id"] for q in triage_queue.queue(seeded, set(ids.values()))}
