"""The analyst's workbench below the browser (issue 21): split previews, money and timeline
wording, identifier pages and explain through the sharing rules, the guards on case work,
exports and suggestions, and the readable report page."""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from ringtrace.domain.models import LinkKey, ReportRef
from ringtrace.linking.split import parts_without
from ringtrace.services.intake import import_lines
from ringtrace.settings import Settings
from ringtrace.store import Store
from ringtrace.web.app import create_app
from ringtrace.web.ring import key_href, money, money_and_timeline
from tests.factories import line, report

PASSWORD = "workbench-unit-password"
PHONE = "+6591234567"
LENT = "+6587654321"
# The offender's number as a structured field: strong evidence, so it links at once (said only
# in passing in four otherwise unrelated reports, it would be a suggestion: docs/linking.md).
OFFENDER = [{"type": "phone", "value": PHONE}]


def test_parts_without_a_key() -> None:
    k1, k2, k3 = LinkKey("phone", "+1"), LinkKey("domain", "a.top"), LinkKey("iban", "X")
    rows = [(1, k1), (2, k1), (2, k2), (3, k2), (4, k3), (3, k3)]
    assert parts_without([1, 2, 3, 4], rows, []) == [[1, 2, 3, 4]]
    assert parts_without([1, 2, 3, 4], rows, [k2]) == [[1, 2], [3, 4]]
    assert parts_without([1, 2, 3, 4], rows, [k1, k2, k3]) == [[1], [2], [3], [4]]
    # An analyst's merge holds parts together that no key joins.
    assert parts_without([1, 2, 3, 4], rows, [k2], [(2, 3, "same man")]) == [[1, 2, 3, 4]]


def test_money_reads_as_money_and_the_timeline_in_one_zone() -> None:
    assert money(Decimal("82000.0")) == "82,000" and money(Decimal("93000")) == "93,000"
    assert money(Decimal("12.5")) == "12.50"
    docs = {
        1: {"received_at": "2024-07-02T21:14:00+08:00",
            "messages": [{"from": "offender", "text": "hi",
                          "sent_at": "2024-07-01T23:30:00+00:00"}],
            "payments": [{"kind": "demanded", "amount": 82000.0, "currency": "hkd",
                          "method": "bank_transfer", "account": "HSBC 1",
                          "at": "2024-07-02T01:00:00+08:00"}]},
        2: {"received_at": "2024-07-03T10:00:00+00:00",
            "payments": [{"kind": "paid", "amount": 93000, "currency": "HKD",
                          "method": "bank_transfer", "account": "HSBC 1"}]},
    }  # fmt: skip
    out = money_and_timeline(docs, {1: "HK-1", 2: "HK-2"}, "Asia/Hong_Kong")
    [hkd] = out["per_currency"]
    assert (hkd["demanded"], hkd["paid"], hkd["methods"]) == ("82,000", "93,000", "bank transfer")
    [acct] = out["per_account"]
    assert (acct["account"], acct["reports"], acct["paid"]) == ("HSBC 1", 2, "93,000")
    events = [(e["at"], e["what"], e["ref"]) for e in out["timeline"]]
    # In time order, whatever zone each was written in; shown in Hong Kong time.
    assert events == [
        ("2024-07-02 01:00", "demand", "HK-1"),
        ("2024-07-02 07:30", "first contact", "HK-1"),  # 23:30 UTC the day before
        ("2024-07-02 21:14", "reported", "HK-1"),
        ("2024-07-03 18:00", "reported", "HK-2"),
    ]
    assert out["tz"] == "Asia/Hong_Kong"
    assert money_and_timeline(docs, tz="Mars/Olympus")["tz"] == "UTC"


@pytest.fixture
def site(sqlite_settings: Settings) -> Iterator[tuple[TestClient, dict[str, Any]]]:
    settings = sqlite_settings.model_copy(update={"home_agency": "agency-a"})
    store = Store.open(settings)
    store.migrate()
    docs = [
        report(source="agency-a", external_id="A-1", tlp="amber",
               reporter={"country": "SG", "consent_share": True},
               narrative=f"他说打这个电话 {PHONE}，然后要我付钱。", offender_identifiers=OFFENDER,
               messages=[{"from": "offender", "text": "Pay within 24 hours or else"}],
               payments=[{"kind": "demanded", "amount": 500.0, "currency": "sgd",
                          "method": "bank_transfer", "account": "DBS 123-456"}]),
        report(source="agency-a", external_id="A-2", tlp="amber",
               narrative=f"Call from {PHONE}; my brother lent me {LENT}",
               offender_identifiers=OFFENDER),
        report(source="agency-a", external_id="A-3", tlp="amber", narrative=f"It was {LENT}"),
        report(source="agency-b", external_id="B-GREEN", tlp="green",
               reporter={"consent_share": True}, narrative=f"Threats from {PHONE}",
               offender_identifiers=OFFENDER),
        report(source="agency-b", external_id="B-STRICT", tlp="amber+strict",
               narrative=f"Threats from {PHONE}, and @secret_ring on Telegram",
               offender_identifiers=OFFENDER),
    ]  # fmt: skip
    import_lines(store, [line(d) for d in docs])
    tokens = {}
    for agency in ("agency-a", "agency-b"):
        store.accounts.ensure_agency(agency)
        for role in ("victim_support", "analyst", "supervisor"):
            name = f"{role}@{agency}"
            store.accounts.add_user(name, PASSWORD, agency, role)
            tokens[(role, agency)] = store.accounts.create_token(name, "tests")
    ids = {
        d["external_id"]: store.reports.id_of(ReportRef(d["source"], d["external_id"]))
        for d in docs
    }
    ring = store.reports.get(ids["A-1"]).summary.cluster_id
    store.close()
    with TestClient(create_app(settings), base_url="https://testserver") as client:
        yield client, {"tokens": tokens, "ids": ids, "ring": ring}


def _h(meta: dict[str, Any], role: str = "analyst", agency: str = "agency-a") -> dict[str, str]:
    return {"Authorization": f"Bearer {meta['tokens'][(role, agency)]}"}


def test_identifier_page_shows_only_what_the_viewer_may_see(
    site: tuple[TestClient, dict[str, Any]],
) -> None:
    client, meta = site
    page = client.get(key_href("phone", PHONE), headers=_h(meta))
    assert page.status_code == 200
    assert "A-1" in page.text and "B-GREEN" in page.text
    assert "B-STRICT" not in page.text  # its indicators are not shared with agency-a
    assert "It links reports" in page.text and f"Ring {meta['ring']}" in page.text
    # A key held only by a report whose keys are withheld answers as an unknown key does.
    hidden = client.get(key_href("telegram", "secret_ring"), headers=_h(meta))
    unknown = client.get(key_href("telegram", "nobody_at_all"), headers=_h(meta))
    assert hidden.status_code == unknown.status_code == 404
    # The owner sees its own report under that key.
    assert (
        "B-STRICT"
        in client.get(key_href("phone", PHONE), headers=_h(meta, "analyst", "agency-b")).text
    )
    # Watching it needs a key the viewer may see.
    res = client.post("/console/keys/watch", headers=_h(meta), follow_redirects=False,
                      data={"key_type": "telegram", "value": "secret_ring"})  # fmt: skip
    assert res.status_code == 404


def test_explain_draws_the_chain(site: tuple[TestClient, dict[str, Any]]) -> None:
    client, meta = site
    res = client.get("/console/explain?a=agency-a/A-3&b=agency-b/B-GREEN", headers=_h(meta))
    assert res.status_code == 200
    assert res.text.count('class="hop-key"') == 2 and LENT in res.text and PHONE in res.text
    # A report the viewer may not know of is answered as unknown.
    alone = client.get("/console/explain?a=agency-a/A-1&b=agency-b/NOPE", headers=_h(meta))
    assert alone.status_code == 404


def test_cut_preview_then_landing_on_the_resulting_ring(
    site: tuple[TestClient, dict[str, Any]],
) -> None:
    client, meta = site
    ring, h = meta["ring"], _h(meta)
    # The shared phone is also held by B-STRICT: agency-a may not cut it alone.
    cut = f"/console/clusters/{ring}/cut"
    assert client.get(f"{cut}?key={quote('phone|' + PHONE)}", headers=h).status_code == 403
    preview = client.get(f"{cut}?key={quote('phone|' + LENT)}", headers=h)
    assert preview.status_code == 200
    assert "would split into 2 parts" in preview.text and "A-3" in preview.text
    assert client.get(f"/console/clusters/{ring}", headers=h).text.count("A-3") >= 1
    done = client.post(f"/console/clusters/{ring}/cut", headers=h, follow_redirects=False,
                       data={"key": f"phone|{LENT}", "reason": "lent by a brother"})  # fmt: skip
    assert done.status_code == 303
    landing = done.headers["location"]
    assert landing.startswith("/console/clusters/") and f"split={ring}" in landing
    page = client.get(landing, headers=h)
    assert page.status_code == 200 and 'id="outcome"' in page.text
    assert ">A-3<" not in page.text and "A-1" in page.text


def test_case_record_owner_notes_and_their_audit(site: tuple[TestClient, dict[str, Any]]) -> None:
    client, meta = site
    ring = meta["ring"]
    url = f"/console/clusters/{ring}/case"
    analyst, supervisor = _h(meta), _h(meta, "supervisor")
    form = {"status": "investigating", "tags": "apk, WhatsApp", "owner": "supervisor@agency-a"}
    # An analyst takes the ring for themself, but gives it to someone else only as supervisor.
    assert client.post(url, headers=analyst, data=form, follow_redirects=False).status_code == 403
    own = {**form, "owner": "analyst@agency-a"}
    assert client.post(url, headers=analyst, data=own, follow_redirects=False).status_code == 303
    assert (
        client.post(url, headers=supervisor, data=form, follow_redirects=False).status_code == 303
    )
    # Never to a user of another agency.
    other = {**form, "owner": "analyst@agency-b"}
    assert (
        client.post(url, headers=supervisor, data=other, follow_redirects=False).status_code == 404
    )
    assert client.post(url, headers=analyst, data={**own, "status": "lost"},
                       follow_redirects=False).status_code == 422  # fmt: skip
    note = "Asked agency-b for the server logs"
    res = client.post(f"/console/clusters/{ring}/notes", headers=analyst, data={"text": note},
                      follow_redirects=False)  # fmt: skip
    assert res.status_code == 303
    page = client.get(f"/console/clusters/{ring}", headers=analyst).text
    assert note in page and "investigating" in page and "whatsapp" in page
    # Each agency keeps its own case record and notes.
    theirs = client.get(f"/console/clusters/{ring}", headers=_h(meta, "analyst", "agency-b")).text
    assert note not in theirs
    audit = client.get(f"/console/audit?subject=cluster:{ring}", headers=supervisor).text
    assert "ring.case" in audit and "ring.note" in audit and note not in audit
    # Victim support reads rings but does not edit their case record.
    vs = _h(meta, "victim_support")
    assert client.post(url, headers=vs, data=own, follow_redirects=False).status_code == 403


def test_exports_run_in_the_background_within_the_sharing_rules(
    site: tuple[TestClient, dict[str, Any]],
) -> None:
    client, meta = site
    ring, h = meta["ring"], _h(meta)
    vs = _h(meta, "victim_support")
    start = f"/console/clusters/{ring}/exports"
    assert client.post(start, headers=vs, data={"format": "csv"}).status_code == 403
    assert client.post(start, headers=h, data={"format": "pdf"}).status_code == 422
    got = {}
    for fmt in ("csv", "misp"):
        res = client.post(start, headers=h, data={"format": fmt}, follow_redirects=False)
        assert res.status_code == 303
        for _ in range(100):
            page = client.get("/console/exports", headers=h).text
            first = page.split('id="job-')[1]
            if 'data-status="done"' in first[:80] or 'data-status="failed"' in first[:80]:
                break
            time.sleep(0.1)
        assert 'data-status="done"' in first[:80], first[:600]
        job = first.split('"')[0]
        got[fmt] = client.get(f"/console/exports/{job}/download", headers=h)
        assert got[fmt].status_code == 200
    csv, misp = got["csv"].text, got["misp"].json()
    assert "A-1" in csv and "B-GREEN" in csv
    assert "B-STRICT" not in csv and "secret_ring" not in csv
    assert misp["Event"]["info"].startswith("Sextortion ring") and "secret_ring" not in str(misp)
    assert PHONE.lstrip("+") in str(misp)
    # Nobody else's export: not even its existence.
    other = _h(meta, "supervisor")
    assert client.get(f"/console/exports/{job}/download", headers=other).status_code == 404


def test_report_page_reads_as_text(site: tuple[TestClient, dict[str, Any]]) -> None:
    client, meta = site
    page = client.get(f"/console/reports/{meta['ids']['A-1']}", headers=_h(meta)).text
    assert "他说打这个电话" in page and "\\u4ed6" not in page
    # The number is marked where it was found and links to its identifier page.
    assert f'href="{key_href("phone", PHONE)}"' in page and 'class="found' in page
    assert "500 SGD" in page and "bank transfer" in page
    assert "24 hours" in page  # the triage reasons, in words, for the owning agency


def test_unrelated_and_merge_are_previewed_and_guarded(
    site: tuple[TestClient, dict[str, Any]],
) -> None:
    client, meta = site
    ring, ids, h = meta["ring"], meta["ids"], _h(meta)
    # share only the lent phone: marking them unrelated would split A-3 off.
    url = f"/console/clusters/{ring}/unrelated?a={ids['A-2']}&b={ids['A-3']}"
    preview = client.get(url, headers=h)
    assert preview.status_code == 200 and "would split into 2 parts" in preview.text
    assert LENT in preview.text
    # A-1 and B-STRICT: the strict report's keys are withheld from agency-a.
    hidden = f"/console/clusters/{ring}/unrelated?a={ids['A-1']}&b={ids['B-STRICT']}"
    assert client.get(hidden, headers=h).status_code == 403
    done = client.post(f"/console/clusters/{ring}/unrelated", headers=h, follow_redirects=False,
                       data={"report_a": ids["A-2"], "report_b": ids["A-3"],
                             "reason": "different people entirely"})  # fmt: skip
    assert done.status_code == 303 and f"split={ring}" in done.headers["location"]
    # Merging: a ring the viewer cannot see is unknown; a ring with itself is refused.
    assert client.get(f"/console/merge?a={ring}&b=999", headers=h).status_code == 404
    assert client.get(f"/console/merge?a={ring}&b={ring}", headers=h).status_code == 422
    vs = _h(meta, "victim_support")
    assert client.get(f"/console/merge?a={ring}&b={ring}", headers=vs).status_code == 403


def test_merge_two_rings(site: tuple[TestClient, dict[str, Any]]) -> None:
    client, meta = site
    store: Store = client.app.state.store  # type: ignore[attr-defined]
    other = "+6590001111"
    import_lines(store, [line(report(source="agency-a", external_id=f"C-{n}",
                                     narrative=f"call {other}")) for n in (1, 2)])  # fmt: skip
    second = store.reports.get(store.reports.id_of(ReportRef("agency-a", "C-1"))).summary.cluster_id
    ring, h = meta["ring"], _h(meta)
    assert second != ring
    preview = client.get(f"/console/merge?a={ring}&b={second}", headers=h)
    assert preview.status_code == 200 and "would become one ring" in preview.text
    done = client.post("/console/merge", headers=h, follow_redirects=False,
                       data={"a": ring, "b": second, "reason": "the same man"})  # fmt: skip
    assert done.status_code == 303
    merged = client.get(done.headers["location"], headers=h).text
    assert "C-1" in merged and "A-1" in merged and 'id="outcome"' in merged


def test_csv_cells_never_run_as_formulas() -> None:
    from ringtrace.web.casework import _cell

    assert _cell("=HYPERLINK(1)") == "'=HYPERLINK(1)" and _cell("@SUM(A1)") == "'@SUM(A1)"
    assert _cell("-1+cmd") == "'-1+cmd"
    assert _cell("+6591234567") == "+6591234567" and _cell("chat-priv.top") == "chat-priv.top"


def test_watching_an_identifier_brings_new_reports_to_the_dashboard(
    site: tuple[TestClient, dict[str, Any]],
) -> None:
    client, meta = site
    h = _h(meta)
    res = client.post("/console/keys/watch", headers=h, follow_redirects=False,
                      data={"key_type": "phone", "value": PHONE})  # fmt: skip
    assert res.status_code == 303
    assert (
        "New reports holding identifiers you watch" not in client.get("/console/", headers=h).text
    )
    store: Store = client.app.state.store  # type: ignore[attr-defined]
    import_lines(store, [line(report(source="agency-a", external_id="A-NEW",
                                     narrative=f"again {PHONE}")),
                         line(report(source="agency-b", external_id="B-NEW", tlp="red",
                                     narrative=f"and {PHONE}"))])  # fmt: skip
    board = client.get("/console/", headers=h).text
    assert "A-NEW" in board and "B-NEW" not in board  # the red report's keys are withheld


def test_supervisors_assign_from_the_triage_page(site: tuple[TestClient, dict[str, Any]]) -> None:
    client, meta = site
    page = client.get("/console/triage", headers=_h(meta, "supervisor")).text
    assert 'value="assign"' in page and "<option>analyst@agency-a</option>" in page
    assert "analyst@agency-b" not in page  # only the agency's own users
    assert 'value="assign"' not in client.get("/console/triage", headers=_h(meta)).text
    rid = meta["ids"]["A-2"]
    res = client.post(f"/console/triage/{rid}", headers=_h(meta, "supervisor"),
                      data={"action": "assign", "assignee": "analyst@agency-a"},
                      follow_redirects=False)  # fmt: skip
    assert res.status_code == 303
    mine = client.get("/console/triage?mine=1", headers=_h(meta)).text
    assert "A-2" in mine and "A-3" not in mine


def test_triage_and_audit_lists_sort(site: tuple[TestClient, dict[str, Any]]) -> None:
    import re

    client, meta = site
    sup = _h(meta, "supervisor")
    newest = re.findall(r">(A-\d)<", client.get("/console/triage?show=all&sort=newest",
                                                 headers=sup).text)  # fmt: skip
    oldest = re.findall(r">(A-\d)<", client.get("/console/triage?show=all&sort=oldest",
                                                 headers=sup).text)  # fmt: skip
    assert sorted(newest) == ["A-1", "A-2", "A-3"] and oldest == list(reversed(newest))
    seq = r"<tr><td>(\d+)</td>"
    first = [int(x) for x in re.findall(seq, client.get("/console/audit?sort=oldest",
                                                       headers=sup).text)]  # fmt: skip
    last = [int(x) for x in re.findall(seq, client.get("/console/audit?sort=newest",
                                                      headers=sup).text)]  # fmt: skip
    assert len(first) > 1 and first == sorted(first) and last == sorted(last, reverse=True)
