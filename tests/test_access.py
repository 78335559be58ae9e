"""Access control: login, sessions, tokens, CSRF, and the sharing matrix (every role x agency x
marking x consent x page/API), on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import itertools
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ringtrace.access.policy import ROLES
from ringtrace.domain.models import ReportRef
from ringtrace.services.intake import import_lines
from ringtrace.settings import Settings
from ringtrace.store import Store
from ringtrace.web.app import create_app
from tests.factories import line, report

PASSWORD = "matrix-test-password"
AGENCIES = ("agency-a", "agency-b")
TLPS = ("clear", "green", "amber", "amber+strict", "red")
SHARED_PHONE = "+6591234567"


def expected_access(viewer: str, owner: str, tlp: str, consent: bool, linked: bool) -> str:
    """The sharing rules of docs/access.md, restated independently of the code."""
    if viewer == owner:
        return "full"
    if not linked:
        return "none"
    if tlp in ("amber+strict", "red"):
        return "exists"
    return "content" if consent else "indicators"


def _doc(agency: str, ext: str, tlp: str, consent: bool, phone: str) -> dict[str, Any]:
    handle = "@handle_" + ext.lower().replace("-", "_")
    evidence = base64.b64encode(f"EVID-{ext}".encode()).decode()
    return report(
        source=agency,
        external_id=ext,
        tlp=tlp,
        reporter={"country": "SG", "contact": f"CONTACT-{ext}", "consent_share": consent},
        narrative=f"NARR-{ext}: they called from {phone}",
        # The number is the offender's by a structured field: a number only mentioned in
        # passing by this many otherwise unrelated reports would be a suggestion, not a link.
        offender_identifiers=[
            {"type": "telegram", "value": handle},
            {"type": "phone", "value": phone},
        ],
        attachments=[{"filename": "chat.txt", "content_base64": evidence}],
    )


@pytest.fixture
def world(backend_settings: Settings) -> Iterator[tuple[Settings, dict[str, Any]]]:
    settings = backend_settings.model_copy(update={"home_agency": "agency-a"})
    store = Store.open(settings)
    store.migrate()
    docs = [_doc("agency-a", "A-1", "amber", True, SHARED_PHONE)]
    for i, (tlp, consent) in enumerate(itertools.product(TLPS, (True, False))):
        docs.append(_doc("agency-b", f"B-{i}", tlp, consent, SHARED_PHONE))
    docs.append(_doc("agency-b", "B-ALONE", "clear", True, "+6598765432"))
    import_lines(store, [line(d) for d in docs])
    tokens = {}
    for agency in AGENCIES:
        store.accounts.ensure_agency(agency)
        for role in ROLES:
            name = f"{role}@{agency}"
            store.accounts.add_user(name, PASSWORD, agency, role)
            tokens[(role, agency)] = store.accounts.create_token(name, "matrix")
    ids = {
        d["external_id"]: store.reports.id_of(ReportRef(d["source"], d["external_id"]))
        for d in docs
    }
    # agency-b's reports joined agency-a's ring: a hit for agency-b until agency-a confirms.
    ring = store.visibility.report_entries([ids["A-1"]])[ids["A-1"]][2]
    assert ring is not None
    store.visibility.confirm_share(
        ring, "agency-a", "agency-b", actor="user:analyst@agency-a@agency-a"
    )
    meta = {
        "tokens": tokens, "ids": ids,
        "docs": {d["external_id"]: d for d in docs},
    }  # fmt: skip
    store.close()
    yield settings, meta


def test_sharing_matrix(world: tuple[Settings, dict[str, Any]]) -> None:
    settings, meta = world
    checked = 0
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        assert client.get("/api/reports").status_code == 401
        assert client.get("/api/clusters").status_code == 401
        r = client.get(f"/api/reports/{meta['ids']['A-1']}")
        assert r.status_code == 401 and r.json()["error"]["code"] == "unauthenticated"
        page = client.get(f"/console/reports/{meta['ids']['A-1']}", follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"].startswith("/login")
        for (role, viewer), token in meta["tokens"].items():
            h = {"Authorization": f"Bearer {token}"}
            rows = client.get("/api/reports", headers=h).json()["reports"]
            listed = {r["external_id"] for r in rows}
            clusters = client.get("/api/clusters", headers=h).json()["clusters"]
            in_links = {
                r["external_id"] for c in clusters for lk in c["links"] for r in lk["reports"]
            }
            for ext, doc in meta["docs"].items():
                rid = meta["ids"][ext]
                linked = ext != "B-ALONE"
                want = expected_access(viewer, doc["source"], doc["tlp"],
                                       doc["reporter"]["consent_share"], linked)  # fmt: skip
                consent = doc["reporter"]["consent_share"]
                where = f"{role}@{viewer} -> {ext} ({doc['tlp']}, consent {consent})"
                api = client.get(f"/api/reports/{rid}", headers=h)
                html = client.get(f"/console/reports/{rid}", headers=h)
                att = client.get(f"/api/reports/{rid}/attachments/0", headers=h)
                assert (ext in listed) == (want != "none"), where
                if want == "none":
                    assert api.status_code == 404 and html.status_code == 404, where
                    assert att.status_code in (403, 404), where
                    continue
                assert api.status_code == 200 and html.status_code == 200, where
                body = api.text
                assert api.json()["access"] == want, where
                content = want in ("content", "full")
                handle = doc["offender_identifiers"][0]["value"].lower().lstrip("@")
                assert (f"NARR-{ext}" in body) == content, where
                assert (f"NARR-{ext}" in html.text) == content, where
                assert (f"CONTACT-{ext}" in body) == (want == "full"), where
                assert (f"CONTACT-{ext}" in html.text) == (want == "full"), where
                assert (handle in body) == (want != "exists"), where
                assert (handle in html.text) == (want != "exists"), where
                # Evidence: only roles that may download, and only where content is shared.
                if role == "victim_support":
                    assert att.status_code == 403, where
                elif content:
                    assert att.status_code == 200 and att.content == f"EVID-{ext}".encode(), where
                else:
                    assert att.status_code == 404, where
                # Cluster views name a report as holding a key only if its indicators are shared.
                if linked and want == "exists":
                    assert ext not in in_links, where
                elif linked:
                    assert ext in in_links, where
                checked += 1
    assert checked == len(meta["tokens"]) * len(meta["docs"]) - len(ROLES)  # B-ALONE is unseen by A


def test_role_permissions_and_audit(world: tuple[Settings, dict[str, Any]]) -> None:
    settings, meta = world
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        for role in ROLES:
            h = {"Authorization": f"Bearer {meta['tokens'][(role, 'agency-a')]}"}
            audit = client.get("/console/audit", headers=h)
            readers = ("supervisor", "admin", "instance_admin")
            assert audit.status_code == (200 if role in readers else 403), role
            cid = client.get("/api/clusters", headers=h).json()["clusters"][0]["id"]
            form = {"key": "telegram|handle_a_1", "reason": "testing the permission"}
            cut = client.post(
                f"/console/clusters/{cid}/cut", headers=h, follow_redirects=False, data=form
            )
            assert cut.status_code == (403 if role == "victim_support" else 303), role
            # Submitting for another agency is refused.
            other = client.post("/api/reports", headers=h, json=report(source="agency-b"))
            assert other.status_code == 403
        h = {"Authorization": f"Bearer {meta['tokens'][('analyst', 'agency-a')]}"}
        client.get(f"/api/reports/{meta['ids']['B-0']}", headers=h)
        s = Store.open(settings)
        views = [e for e in s.audit.entries(["report:agency-b/B-0"]) if e.action == "report.view"]
        s.close()
        assert views and views[-1].actor == "user:analyst@agency-a@agency-a"
        bad = client.get("/api/reports", headers={"Authorization": "Bearer rt_forged"})
        assert bad.status_code == 401


def _login(client: TestClient, username: str, password: str = PASSWORD, code: str = "") -> Any:
    return client.post("/login", data={"username": username, "password": password,
                                       "code": code, "next": "/console/clusters"},
                       follow_redirects=False)  # fmt: skip


def test_login_session_csrf_and_logout(world: tuple[Settings, dict[str, Any]]) -> None:
    settings, _ = world
    with TestClient(create_app(settings), base_url="https://testserver",
                    raise_server_exceptions=False) as client:  # fmt: skip
        assert _login(client, "analyst@agency-a", "wrong password!!").status_code == 401
        assert _login(client, "my-secret-password-typed-here", "x" * 12).status_code == 401
        store = Store.open(settings)
        failed = [e for e in store.audit.entries() if e.action == "login.failed"]
        store.close()
        assert [e.subject for e in failed] == ["user:analyst@agency-a", "user:(unknown)"]
        assert all("my-secret-password" not in e.subject + e.details for e in failed)
        res = _login(client, "analyst@agency-a")
        assert res.status_code == 303 and res.headers["location"] == "/console/clusters"
        cookie = res.headers["set-cookie"]
        assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=strict" in cookie
        first = client.cookies.get("rt_session")
        page = client.get("/console/clusters")
        assert page.status_code == 200 and "analyst@agency-a" in page.text
        cid = client.get("/api/clusters").json()["clusters"][0]["id"]
        # A form post from the session needs the session's CSRF token.
        form = {"key": "telegram|handle_a_1", "reason": "csrf check here"}
        no_token = client.post(f"/console/clusters/{cid}/cut", follow_redirects=False, data=form)
        assert no_token.status_code == 403 and "CSRF" in no_token.text
        cluster_page = client.get(f"/console/clusters/{cid}").text
        token = re.search(r'name="csrf" value="([^"]+)"', cluster_page)
        assert token
        ok = client.post(
            f"/console/clusters/{cid}/cut",
            follow_redirects=False,
            data={**form, "csrf": token.group(1)},
        )
        assert ok.status_code == 303
        # Logging in again gives a new session id (no fixation); the old one stops working.
        _login(client, "analyst@agency-a")
        assert client.cookies.get("rt_session") != first
        client.post("/logout")
        assert client.get("/console/clusters", follow_redirects=False).status_code == 303


def test_totp_and_throttle(world: tuple[Settings, dict[str, Any]]) -> None:
    import pyotp

    settings, _ = world
    s = Store.open(settings)
    secret = s.accounts.add_user("two-factor", PASSWORD, "agency-a", "analyst", totp=True)
    s.close()
    assert secret
    with TestClient(create_app(settings), base_url="https://testserver",
                    raise_server_exceptions=False) as client:  # fmt: skip
        assert _login(client, "two-factor").status_code == 401  # code missing
        assert _login(client, "two-factor", code=pyotp.TOTP(secret).now()).status_code == 303
        for _ in range(10):
            _login(client, "nobody", "not the password")
        assert _login(client, "nobody", "not the password").status_code == 429


# -- decisions touch every object they change; lookups are no oracle ------------------------


def _add_hidden_ring(settings: Settings) -> dict[str, int]:
    """Two agency-b reports linked to each other only (agency-a has no report in their ring)."""
    store = Store.open(settings)
    docs = [
        report(source="agency-b", external_id=f"B-HID-{n}", tlp="amber",
               narrative=f"NARR-HID-{n}", offender_identifiers=[{"type": "telegram",
                                                                 "value": "@hidden_ring_b"}])
        for n in (1, 2)
    ]  # fmt: skip
    import_lines(store, [line(d) for d in docs])
    ids = {
        d["external_id"]: store.reports.id_of(ReportRef("agency-b", d["external_id"])) for d in docs
    }
    store.close()
    return ids


def test_a_cut_needs_every_holder_of_the_key_in_view(
    world: tuple[Settings, dict[str, Any]],
) -> None:
    settings, meta = world
    hidden = _add_hidden_ring(settings)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        a = {"Authorization": f"Bearer {meta['tokens'][('analyst', 'agency-a')]}"}
        cid = client.get("/api/clusters", headers=a).json()["clusters"][0]["id"]
        # A key only another agency's hidden ring holds, cut through a ring agency-a sees.
        form = {"key": "telegram|hidden_ring_b", "reason": "trying to split another ring"}
        cut = client.post(f"/console/clusters/{cid}/cut", headers=a, data=form,
                          follow_redirects=False)  # fmt: skip
        assert cut.status_code == 404, cut.text
        # A key of agency-a's ring that AMBER+STRICT reports of agency-b also hold: agency-a
        # may not see those reports' indicators, so it may not change them.
        form = {"key": f"phone|{SHARED_PHONE}", "reason": "splitting with withheld holders"}
        cut = client.post(f"/console/clusters/{cid}/cut", headers=a, data=form,
                          follow_redirects=False)  # fmt: skip
        assert cut.status_code == 403, cut.text
    store = Store.open(settings)
    try:
        assert store.reports.get(hidden["B-HID-1"]).summary.cluster_id == (
            store.reports.get(hidden["B-HID-2"]).summary.cluster_id
        )
        assert store.reports.get(hidden["B-HID-1"]).summary.cluster_size == 2
        assert not [e for e in store.audit.entries() if e.action == "cluster.split"]
    finally:
        store.close()


def test_unrelated_needs_both_reports_indicators(world: tuple[Settings, dict[str, Any]]) -> None:
    settings, meta = world
    docs = meta["docs"]
    strict = next(e for e, d in docs.items() if d["tlp"] == "amber+strict")
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        a = {"Authorization": f"Bearer {meta['tokens'][('analyst', 'agency-a')]}"}
        cid = client.get("/api/clusters", headers=a).json()["clusters"][0]["id"]
        form = {"report_a": str(meta["ids"]["A-1"]), "report_b": str(meta["ids"][strict]),
                "reason": "they only look alike"}  # fmt: skip
        r = client.post(f"/console/clusters/{cid}/unrelated", headers=a, data=form,
                        follow_redirects=False)  # fmt: skip
        assert r.status_code == 403, r.text


def test_a_reference_lookup_is_no_existence_oracle(
    world: tuple[Settings, dict[str, Any]],
) -> None:
    settings, meta = world
    _add_hidden_ring(settings)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        a = {"Authorization": f"Bearer {meta['tokens'][('victim_support', 'agency-a')]}"}
        lookup = "/console/report"
        hid = {"source": "agency-b", "external_id": "B-HID-1"}
        nope = {"source": "agency-b", "external_id": "B-NOPE-1"}
        exists = client.get(lookup, params=hid, headers=a, follow_redirects=False)
        absent = client.get(lookup, params=nope, headers=a, follow_redirects=False)
        assert exists.status_code == absent.status_code == 404
        # The same answer, but for the reference echoed back.
        assert exists.text.replace("B-HID-1", "X") == absent.text.replace("B-NOPE-1", "X")
        own = client.get("/console/report", params={"source": "agency-a", "external_id": "A-1"},
                         headers=a, follow_redirects=False)  # fmt: skip
        assert own.status_code == 303


def test_audit_and_assignment_stay_within_the_agency(
    world: tuple[Settings, dict[str, Any]],
) -> None:
    settings, meta = world
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        b_sup = {"Authorization": f"Bearer {meta['tokens'][('supervisor', 'agency-b')]}"}
        page = client.get("/console/audit", headers=b_sup).text
        assert "agency-b/B-0" in page and "agency-a/A-1" not in page
        # An admin of the home agency is no instance administrator: its agency's entries.
        home_admin = {"Authorization": f"Bearer {meta['tokens'][('admin', 'agency-a')]}"}
        mine = client.get("/console/audit", headers=home_admin).text
        assert "agency-a/A-1" in mine and "agency-b/B-0" not in mine
        operator = {"Authorization": f"Bearer {meta['tokens'][('instance_admin', 'agency-a')]}"}
        everything = client.get("/console/audit", headers=operator).text
        assert "agency-a/A-1" in everything and "agency-b/B-0" in everything
        a_sup = {"Authorization": f"Bearer {meta['tokens'][('supervisor', 'agency-a')]}"}
        rid = meta["ids"]["A-1"]
        other = client.post(f"/console/triage/{rid}", headers=a_sup,
                            data={"action": "assign", "assignee": "analyst@agency-b"},
                            follow_redirects=False)  # fmt: skip
        assert other.status_code == 404
        own = client.post(f"/console/triage/{rid}", headers=a_sup,
                          data={"action": "assign", "assignee": "analyst@agency-a"},
                          follow_redirects=False)  # fmt: skip
        assert own.status_code == 303


def test_submitting_into_another_agencys_ring_is_a_hit_not_a_look_inside(
    backend_settings: Settings,
) -> None:
    """The lowest role names an identifier another agency holds: it learns that agency holds
    a matching report, and reads nothing of it until that agency confirms the match."""
    settings = backend_settings.model_copy(update={"home_agency": "agency-a"})
    store = Store.open(settings)
    store.migrate()
    held = _doc("agency-a", "HELD-1", "green", True, "+6590001111")
    import_lines(store, [line(held)])
    tokens = {}
    for agency in AGENCIES:
        store.accounts.ensure_agency(agency)
        for role in ("victim_support", "analyst"):
            store.accounts.add_user(f"{role}@{agency}", PASSWORD, agency, role)
            tokens[(role, agency)] = store.accounts.create_token(f"{role}@{agency}", "hit")
    held_id = store.reports.id_of(ReportRef("agency-a", "HELD-1"))
    store.close()
    guess = _doc("agency-b", "GUESS-1", "green", True, "+6590001111")
    b = {"Authorization": f"Bearer {tokens[('victim_support', 'agency-b')]}"}
    a = {"Authorization": f"Bearer {tokens[('analyst', 'agency-a')]}"}
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        posted = client.post("/api/reports", json=guess, headers=b)
        assert posted.status_code == 201
        ring = posted.json()["cluster_id"]
        seen = client.get(f"/api/reports/{held_id}", headers=b)
        assert seen.status_code == 200 and seen.json()["access"] == "exists"
        assert posted.json()["held_elsewhere"] == ["agency-a"]  # the hit: whom to ask
        assert "document" not in seen.json() and "indicators" not in seen.json()
        for url in (
            f"/api/clusters/{ring}",
            f"/console/clusters/{ring}",
            f"/console/reports/{held_id}",
            "/api/clusters",
            "/console/search?q=HELD",
        ):
            body = client.get(url, headers=b).text
            assert "NARR-HELD-1" not in body and "CONTACT-HELD-1" not in body, url
            assert "handle_held_1" not in body, url
        assert client.get(f"/api/reports/{held_id}/attachments/0", headers=b).status_code in (
            403, 404)  # fmt: skip
        page = client.get(f"/console/clusters/{ring}", headers=b).text
        assert 'id="hits"' in page and "agency-a" in page.split('id="hits"')[1][:200]
        # agency-a reads agency-b's report: agency-b put it into agency-a's ring itself.
        mine = client.get(f"/api/reports/{posted.json()['id']}", headers=a).json()
        assert mine["access"] == "content"
        # agency-a confirms the match: agency-b may now read under the TLP rules.
        cid = client.get(f"/api/reports/{held_id}", headers=a).json()["cluster_id"]
        form = client.get(f"/console/clusters/{cid}", headers=a).text
        assert 'id="share-form"' in form and '<option value="agency-b">' in form
        ok = client.post(f"/console/clusters/{cid}/share", data={"agency": "agency-b"},
                         headers=a, follow_redirects=False)  # fmt: skip
        assert ok.status_code == 303
        after = client.get(f"/api/reports/{held_id}", headers=b).json()
        assert after["access"] == "content" and "NARR-HELD-1" in after["document"]["narrative"]
        # Only the owning agency can share its reports, and only with an agency in the ring.
        no = client.post(f"/console/clusters/{cid}/share", data={"agency": "agency-c"},
                         headers=a, follow_redirects=False)  # fmt: skip
        assert no.status_code == 404
    check = Store.open(settings)
    try:
        shares = [e for e in check.audit.entries() if e.action == "ring.share"]
        assert [e.actor for e in shares] == ["user:analyst@agency-a@agency-a"]
    finally:
        check.close()
