"""The public report page without a browser: languages, catalogues, abuse resistance, crisis
handling, the follow-up code, and that everything works without JavaScript."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from ringtrace.domain.models import ReportRef
from ringtrace.services import triage_queue
from ringtrace.settings import Settings
from ringtrace.store import Store
from ringtrace.web import i18n
from ringtrace.web.app import create_app
from ringtrace.web.throttle import PostLimiter

PUBLIC_TEMPLATES = (
    "public_base.html", "index.html", "crisis.html", "receipt.html", "status.html",
    "public_error.html", "after_report.html",
)  # fmt: skip


@pytest.fixture
def client(sqlite_settings: Settings) -> Iterator[TestClient]:
    Store.open(sqlite_settings).migrate()
    with TestClient(create_app(sqlite_settings), base_url="https://testserver") as c:
        yield c


def _csrf(client: TestClient, path: str = "/") -> str:
    page = client.get(path)
    match = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert match
    return match.group(1)


def test_every_public_text_is_translated_in_every_language() -> None:
    root = resources.files("ringtrace.web").joinpath("templates")
    used: set[str] = set()
    for name in PUBLIC_TEMPLATES:
        text = root.joinpath(name).read_text(encoding="utf-8")
        used |= {m.group(2) for m in re.finditer(r"""_\(\s*(["'])(.*?)\1""", text)}
    code = resources.files("ringtrace.web").joinpath("public.py").read_text(encoding="utf-8")
    used |= {m.group(2) for m in re.finditer(r"""_\(\s*(["'])(.*?)\1""", code)}
    from ringtrace.web.public import _TAKES, COUNTRIES, METHODS

    used |= {n for _, n in COUNTRIES} | {n for _, n in METHODS} | set(_TAKES.values())
    assert len(used) > 80
    for lang in ("zh-Hant", "zh-Hans", "ms"):
        catalogue = i18n.msgids(lang)
        missing = sorted(m for m in used if not catalogue.get(m))
        assert not missing, (lang, missing[:5])
        # Placeholders survive translation.
        for msgid, msgstr in catalogue.items():
            assert sorted(re.findall(r"%\(\w+\)s", msgid)) == sorted(
                re.findall(r"%\(\w+\)s", msgstr)
            )


@pytest.mark.parametrize(
    ("header", "lang", "heading"),
    [
        ("zh-TW,zh;q=0.9", "zh-Hant", "這不是你的錯"),
        ("zh-HK", "zh-Hant", "這不是你的錯"),
        ("zh-CN,zh;q=0.9,en;q=0.5", "zh-Hans", "这不是你的错"),
        ("ms-MY,ms;q=0.9", "ms", "Ini bukan salah anda"),
        ("fr-FR,fr;q=0.9", "en", "You are not at fault"),
        ("", "en", "You are not at fault"),
    ],
)
def test_language_from_the_browser(
    client: TestClient, header: str, lang: str, heading: str
) -> None:
    page = client.get("/", headers={"Accept-Language": header})
    assert f'<html lang="{lang}">' in page.text and heading in page.text


def test_language_switch_sticks_and_guidance_comes_first(client: TestClient) -> None:
    page = client.get("/?lang=ms")
    assert "Jangan bayar." in page.text
    assert page.text.index("Jangan bayar.") < page.text.index("<form")
    again = client.get("/", headers={"Accept-Language": "en"})
    assert "Jangan bayar." in again.text  # the choice is kept in a cookie


def test_security_headers_and_no_third_party_references(client: TestClient) -> None:
    page = client.get("/")
    csp = page.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert page.headers["x-frame-options"] == "DENY"
    # Every script and stylesheet the page loads is our own.
    for src in re.findall(r'(?:src|href)="([^"]+)"', page.text):
        if src.startswith(("/static/", "?lang=", "/status", "#", "tel:")):
            continue
        assert src == "https://www.google.com/search?q=weather", src  # the quick-exit link only


def _form(client: TestClient, path: str = "/") -> dict[str, str]:
    page = client.get(path)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    submission = re.search(r'name="submission" value="([^"]+)"', page.text)
    assert csrf
    return {"csrf": csrf.group(1), **({"submission": submission.group(1)} if submission else {})}


def _receipt(page_text: str) -> tuple[str, str | None]:
    ref = re.search(r'id="reference">([^<]+)<', page_text)
    code = re.search(r'id="code">([^<]+)<', page_text)
    assert ref, page_text[:2000]
    return ref.group(1), code.group(1) if code else None


def test_report_without_javascript_receipt_code_and_status(
    client: TestClient, sqlite_settings: Settings
) -> None:
    form = {
        **_form(client),
        "narrative": "He recorded our video call and wants money",
        "identifiers": "+852 6123 4567\n@ringboss",
        "messages": "Pay 5000 HKD within 24 hours",
        "demanded": "5000",
        "currency": "hkd",
        "method": "fps",
        "account": "FPS 1234567",
        "country": "HK",
        "consent_share": "1",
        "consent_linked": "1",
    }
    files = [("evidence", ("chat.txt", b"[12:01] ringboss: pay now", "text/plain"))]
    sent = client.post("/report", data=form, files=files, follow_redirects=False)
    # Post/Redirect/Get: the answer to the post is a redirect to a page that can be reloaded.
    assert sent.status_code == 303 and sent.headers["location"] == "/receipt"
    receipt = client.get("/receipt")
    reference, code = _receipt(receipt.text)
    assert code is not None and reference.startswith("WEB-") and len(code) == 27
    assert 'id="crisis" hidden' in receipt.text  # no crisis signs: contacts not pushed
    assert 'href="tel:' in receipt.text  # but the numbers are on the page, ready
    # Only a hash of the code is stored; the report belongs to the intake agency (the home
    # agency when no route is set).
    store = Store.open(sqlite_settings)
    from ringtrace.store.tables import followups

    with store.engine.connect() as conn:
        stored = conn.execute(select(followups.c.code_hash)).scalar_one()
    assert stored == hashlib.sha256(code.encode()).hexdigest() and code not in stored
    assert store.followups.check(ReportRef(sqlite_settings.home_agency, reference), code)
    store.close()
    # Follow up: wrong code refused, right code opens; add a note; withdraw.
    csrf = _form(client, "/status")["csrf"]
    bad = client.post("/status", data={"csrf": csrf, "reference": reference, "code": "0000-0000"})
    assert bad.status_code == 403
    status = client.post("/status", data={"csrf": csrf, "reference": reference, "code": code})
    assert status.status_code == 200 and 'id="add-evidence"' in status.text
    assert "Received" in status.text and "Waiting to be reviewed" in status.text
    # The opened report survives a reload and a language switch (a GET, nothing re-sent).
    assert 'id="add-evidence"' in client.get("/status?lang=ms").text
    client.get("/?lang=en")
    added = client.post(
        "/status/add", data={"csrf": csrf, "note": "He wrote again from another number"}
    )
    assert added.status_code == 200 and "Your addition was received." in added.text
    # The addition is stored with the report it follows up, and counted on the status page.
    store = Store.open(sqlite_settings)
    home = sqlite_settings.home_agency
    rid = store.followups.check(ReportRef(home, reference), code)
    assert rid is not None and store.followups.additions(rid) == 1
    addition = store.reports.id_of(ReportRef(home, f"{reference}-A1"))
    assert (
        store.reports.get(addition).summary.cluster_id == store.reports.get(rid).summary.cluster_id
    )
    store.close()
    assert 'id="additions" data-count="1"' in added.text
    # An empty addition stores nothing and says so.
    empty = client.post("/status/add", data={"csrf": csrf, "note": " "})
    assert "Your addition was received." not in empty.text
    assert "Nothing was added" in empty.text and 'data-count="1"' in empty.text
    gone = client.post("/status/withdraw", data={"csrf": csrf, "confirm": "1"})
    assert 'id="withdrawn"' in gone.text
    closed = client.post("/status/close", data={"csrf": csrf})
    assert 'id="status-login"' in closed.text


def test_crisis_contacts_shown_and_report_urgent(
    client: TestClient, sqlite_settings: Settings
) -> None:
    receipt = client.post(
        "/report",
        data={
            **_form(client, "/?lang=zh-Hant"),
            "lang": "zh-Hant",
            "country": "HK",
            "narrative": "我真的不想活了，他要把影片發給我的家人",
        },
    )
    assert 'id="crisis" hidden' not in receipt.text and "befrienders.org" in receipt.text
    # Local numbers, tappable: the Hong Kong lines are shown, the others are not.
    assert 'href="tel:+85223892222"' in receipt.text
    assert re.search(r'class="crisis-lines" data-country="HK"\s*>', receipt.text)
    assert re.search(r'class="crisis-lines" data-country="SG"\s*hidden', receipt.text)
    minor = client.post("/report", data={**_form(client), "age_band": "under-18"})
    assert 'id="crisis" hidden' not in minor.text and "takeitdown" in minor.text
    store = Store.open(sqlite_settings)
    queue = triage_queue.queue(store, {r.id for r in store.reports.page(limit=10**6)})
    store.close()
    assert all(q["crisis"] and q["score"] >= 100 for q in queue) and len(queue) == 2


def test_crisis_phrases_reach_the_page_and_every_country_has_sourced_lines(
    client: TestClient,
) -> None:
    from ringtrace.triage import crisis_lines

    page = client.get("/")
    phrases = re.search(r'data-phrases="([^"]+)"', page.text)
    assert phrases and "bunuh diri" in phrases.group(1) and "想自殺" not in phrases.group(1)
    assert "自殺" in phrases.group(1) and "kill myself" in phrases.group(1)
    data = crisis_lines.data()
    assert data["version"] and data["checked"]
    for country in ("HK", "SG", "MY"):
        lines = crisis_lines.for_country(country)
        assert any(x["kind"] == "emergency" for x in lines)
        assert any(x["kind"] == "support" and x.get("hours") == "24h" for x in lines)
    for lines in data["countries"].values():
        for line in lines:
            assert line["source"].startswith("https://") and re.fullmatch(
                r"\+?\d{3,15}", line["tel"]
            )


def _routed_app(tmp_path: Path) -> tuple[Settings, TestClient]:
    settings = Settings(
        data_dir=tmp_path / "data",
        public_routes={"HK": "hk-police", "SG": "sg-police", "MY": "my-helpline"},
        public_intake_agency="intake",
    )
    store = Store.open(settings)
    store.migrate()
    store.accounts.add_user("hk-worker", "a long enough password", "hk-police", "victim_support")
    store.accounts.add_user("intake-worker", "a long enough password", "intake", "analyst")
    store.accounts.ensure_agency("sg-police")  # an agency nobody works for yet
    store.close()
    return settings, TestClient(create_app(settings), base_url="https://testserver")


def test_reports_are_routed_to_an_agency_with_people(tmp_path: Path) -> None:
    from ringtrace.access.policy import Principal
    from ringtrace.access.sharing import Sharing

    settings, client = _routed_app(tmp_path)
    with client:
        for country, text in (("HK", "he wants money"), ("SG", "he wants money too"),
                              ("", "no country"), ("HK", "I want to kill myself")):  # fmt: skip
            client.post("/report", data={**_form(client), "country": country, "narrative": text})
    store = Store.open(settings)
    by_source = {}
    for r in store.reports.page(limit=100):
        by_source.setdefault(r.ref.source, []).append(r.id)
    # Hong Kong has people; Singapore's agency has none yet, so its report goes to intake.
    assert len(by_source["hk-police"]) == 2 and len(by_source["intake"]) == 2
    assert "sg-police" not in by_source and "local" not in by_source
    hk = Principal(1, "hk-worker", "victim_support", "hk-police", "session")
    queue = triage_queue.queue(store, Sharing(store, hk).own_reports)
    assert [q["crisis"] for q in queue] == [True, False]  # the crisis report on top
    # The urgent report raised an alert for the people of the agency that received it.
    alerts = store.alerts.for_user(1)
    assert [a["report_id"] for a in alerts] == [queue[0]["id"]]
    assert store.alerts.for_user(2) == []
    store.close()


def test_routing_names_what_an_operator_must_fix() -> None:
    from ringtrace.access.routing import Routing, unstaffed

    rules = Routing({"HK": "hk-police", "SG": "sg-police"}, "intake")
    assert rules.agency_for("hk", {"hk-police"}) == "hk-police"
    assert rules.agency_for("SG", {"hk-police"}) == "intake"
    assert rules.agency_for(None, set()) == "intake"
    problems = unstaffed(rules, {"hk-police"})
    assert len(problems) == 2 and "sg-police" in problems[0] and "reach nobody" in problems[1]


def test_double_submit_reload_and_language_switch_keep_one_report_and_the_code(
    client: TestClient, sqlite_settings: Settings
) -> None:
    form = {**_form(client), "narrative": "she recorded me", "country": "MY"}
    first = client.post("/report", data=form)
    again = client.post("/report", data=form)  # a double click, or the form sent twice
    ref, code = _receipt(first.text)
    assert _receipt(again.text) == (ref, code)
    assert _receipt(client.get("/receipt").text) == (ref, code)  # reload
    malay = client.get("/receipt?lang=ms")  # language switch
    assert malay.status_code == 200 and 'lang="ms"' in malay.text
    assert _receipt(malay.text) == (ref, code)
    assert client.get("/report").url.path == "/receipt"  # reloading the post's address
    saved = client.get("/receipt/code.txt")
    assert saved.headers["content-disposition"].startswith("attachment") and code in saved.text
    # Once the person says they saved it, the code is no longer shown; the reference stays.
    csrf = _form(client)["csrf"]
    hidden = client.post("/receipt/saved", data={"csrf": csrf, "confirm": "1"})
    assert _receipt(hidden.text) == (ref, None) and 'id="code-saved"' in hidden.text
    # The same form again does not make a new code that would void the saved one.
    assert _receipt(client.post("/report", data=form).text) == (ref, None)
    store = Store.open(sqlite_settings)
    assert store.reports.count() == 1
    assert store.followups.check(ReportRef(sqlite_settings.home_agency, ref), code) is not None
    store.close()
    # Another browser sending the same form (the first answer never arrived) gets a code
    # that works, and still no second report.
    other = TestClient(client.app, base_url="https://testserver")
    other_form = {**_form(other), "submission": form["submission"], "narrative": "she recorded me"}
    other_ref, other_code = _receipt(other.post("/report", data=other_form).text)
    assert other_ref == ref and other_code
    store = Store.open(sqlite_settings)
    assert store.reports.count() == 1
    assert store.followups.check(ReportRef(sqlite_settings.home_agency, ref), other_code)
    store.close()


def test_payments_handles_and_fingerprint_cap(
    client: TestClient, sqlite_settings: Settings
) -> None:
    client.post(
        "/report",
        data={
            **_form(client),
            "identifiers": "@lisa.wong.88 (Instagram)\nTelegram: @ring_boss\n+60 12-345 6789",
            "currency": "MYR",
            "method": "bank_transfer",
            "account": "Maybank 1234 5678 9012",
        },
    )
    store = Store.open(sqlite_settings)
    (only,) = store.reports.page(limit=10)
    doc = store.reports.get(only.id).document
    # Nothing paid: no payment of kind "paid", only where they asked to be paid.
    assert [p["kind"] for p in doc["payments"]] == ["demanded"]
    assert doc["payments"][0]["account"] == "Maybank 1234 5678 9012"
    idents = doc["offender_identifiers"]
    assert {"type": "instagram", "value": "lisa.wong.88"} in idents
    assert {"type": "telegram", "value": "ring_boss"} in idents
    keys = {(i.key.type, i.key.value) for i in store.reports.get(only.id).indicators}
    assert ("instagram", "lisa.wong.88") in keys
    store.close()
    too_many = [{"algorithm": "pdq", "hash": f"{i:064x}", "quality": 100, "role": "own"}
                for i in range(21)]  # fmt: skip
    refused = client.post("/report", data={**_form(client), "media_hashes": json.dumps(too_many)})
    assert refused.status_code == 422 and "20" in refused.text


def test_status_says_what_happened_and_never_counts(tmp_path: Path) -> None:
    settings, client = _routed_app(tmp_path)
    with client:
        refs = []
        for n in range(3):
            form = {**_form(client), "country": "HK", "consent_linked": "1",
                    "identifiers": "+852 6123 4567", "narrative": f"report {n}"}  # fmt: skip
            refs.append(_receipt(client.post("/report", data=form).text))
        ref, code = refs[-1]
        assert code
        opened = client.post("/status", data={**_form(client, "/status"), "reference": ref,
                                              "code": code})  # fmt: skip
        # Linked to two others, but nobody reviewed it yet: nothing is said about links.
        assert 'id="linked"' not in opened.text and 'id="not-linked"' in opened.text
        assert not re.search(r"\b2\b", opened.text.split('id="status"')[1].split("</div>")[0])
        store = Store.open(settings)
        rid = store.reports.id_of(ReportRef("hk-police", ref))
        store.triage.set(rid, status="referred", actor="user:hk-worker@hk-police")
        store.close()
        page = client.get("/status").text
        assert 'id="linked"' in page and "Other people have reported the same group." in page
        assert 'data-stage="referred"' in page and 'data-stage="reviewed"' in page


def test_public_errors_are_calm_translated_and_keep_the_exit(client: TestClient) -> None:
    client.get("/?lang=ms")
    missing = client.get("/no-such-page")
    assert missing.status_code == 404 and 'lang="ms"' in missing.text
    assert 'id="quick-exit"' in missing.text and 'href="/"' in missing.text
    assert "Tiada halaman di alamat ini." in missing.text
    wrong = client.get("/status/add")
    assert wrong.status_code == 405 and "Method Not Allowed" not in wrong.text
    # The console and the API keep their own error forms.
    assert client.get("/api/nothing").headers["content-type"].startswith("application/json")


def test_abuse_resistance(client: TestClient, sqlite_settings: Settings) -> None:
    # No CSRF cookie/token pair: refused.
    assert client.post("/report", data={"narrative": "x"}).status_code == 403
    csrf = _csrf(client)
    assert client.post("/report", data={"narrative": "x", "csrf": "forged"}).status_code == 403
    # Files: size and type limits, clearly refused, nothing stored.
    big = sqlite_settings.max_attachment_bytes + 1
    r = client.post(
        "/report",
        data={"csrf": csrf},
        files=[("evidence", ("big.png", b"\x89PNG" + b"0" * big, "image/png"))],
    )
    assert r.status_code == 422
    elf = client.post(
        "/report",
        data={"csrf": csrf},
        files=[("evidence", ("x.bin", b"\x7fELF" + b"\0" * 100, "application/octet-stream"))],
    )
    assert elf.status_code == 422
    store = Store.open(sqlite_settings)
    assert store.reports.count() == 0
    store.close()
    # Too many posts from one client: 429.
    client.app.state.post_limiter = PostLimiter(limit=2)  # type: ignore[attr-defined]
    codes = [
        client.post("/report", data={"csrf": csrf, "narrative": "n"}).status_code for _ in range(3)
    ]
    assert codes == [200, 200, 429]


def test_app_help_says_what_the_app_asked_for_in_the_reporters_language(
    client: TestClient,
) -> None:
    from ringtrace.web.public import _app_takes

    class Analyses:
        def analyses(self, report_id: int) -> list[dict[str, object]]:
            perms = ["android.permission.READ_SMS", "android.permission.READ_CONTACTS",
                     "android.permission.INTERNET", "android.permission.RECEIVE_SMS"]  # fmt: skip
            return [{"result": {"permissions": [{"name": p} for p in perms]}}]

    class Analysed:
        apk = Analyses()

    i18n.activate("ms")
    assert _app_takes(Analysed(), [1]) == ["senarai kenalan anda", "mesej teks anda"]  # type: ignore[arg-type]
    i18n.activate("en")
    # An app link given: the help to remove the app is open on the receipt, and a message
    # for the person's contacts is ready in their language.
    receipt = client.post(
        "/report",
        data={**_form(client, "/?lang=zh-Hans"), "lang": "zh-Hans", "app_link": "chat-priv.top"},
    )
    assert re.search(r'<details open>\s*<summary id="app-title">', receipt.text)
    assert "可能有人会发送关于我的信息或图像给你" in receipt.text
    plain = client.post("/report", data={**_form(client), "narrative": "no app"})
    assert re.search(r"<details>\s*<summary", plain.text)


def test_the_same_form_sent_at_once_from_several_tabs_is_one_report(
    client: TestClient, sqlite_settings: Settings
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    form = {**_form(client), "narrative": "sent four times at once"}
    files = [("evidence", ("chat.txt", b"[12:01] pay now", "text/plain"))]

    def send(_: int) -> int:
        return client.post("/report", data=form, files=files).status_code

    with ThreadPoolExecutor(4) as pool:
        codes = list(pool.map(send, range(4)))
    assert codes == [200] * 4
    store = Store.open(sqlite_settings)
    assert store.reports.count() == 1
    store.close()


def test_a_form_filed_meanwhile_by_another_process_gets_its_receipt(
    client: TestClient, sqlite_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ringtrace.web import public

    form = {**_form(client), "narrative": "sent to two workers"}
    ref, code = _receipt(client.post("/report", data=form).text)
    real_find = public._find
    calls: list[int] = []

    def late(request: object, external_id: str) -> object:
        calls.append(1)  # the first look misses it, as in a worker that has not seen it yet
        return None if len(calls) == 1 else real_find(request, external_id)  # type: ignore[arg-type]

    monkeypatch.setattr(public, "_find", late)
    again = client.post("/report", data=form)
    assert again.status_code == 200 and _receipt(again.text) == (ref, code)
    store = Store.open(sqlite_settings)
    assert store.reports.count() == 1
    store.close()


def test_a_fingerprint_can_be_taken_off_the_takedown_list_by_its_reporter_only(
    client: TestClient, sqlite_settings: Settings
) -> None:
    def own(n: int) -> str:
        fp = [{"algorithm": "pdq", "hash": f"{n:064x}", "quality": 100, "role": "own"}]
        return json.dumps(fp)

    other = TestClient(client.app, base_url="https://testserver")
    other.post("/report", data={**_form(other), "media_hashes": own(7)})
    ref, code = _receipt(
        client.post("/report", data={**_form(client), "media_hashes": own(9)}).text
    )
    assert code
    store = Store.open(sqlite_settings)
    entries = {e["reference"]: e for e in store.media.takedown_entries()}
    store.close()
    assert len(entries) == 2
    csrf = _form(client, "/status")["csrf"]
    page = client.post("/status", data={"csrf": csrf, "reference": ref, "code": code}).text
    mine = re.findall(r'name="takedown" value="([^"]+)"', page)
    assert len(mine) == 1
    theirs = next(r for r in entries if r not in mine)
    client.post("/status/fingerprint", data={"csrf": csrf, "takedown": theirs})
    done = client.post("/status/fingerprint", data={"csrf": csrf, "takedown": mine[0]})
    assert "taken off the takedown list" in done.text
    store = Store.open(sqlite_settings)
    status = {e["reference"]: e["status"] for e in store.media.takedown_entries()}
    store.close()
    assert status[mine[0]] == "withdrawn" and status[theirs] != "withdrawn"


def test_the_exit_beacon_forgets_the_receipt_on_this_device(client: TestClient) -> None:
    _ref, code = _receipt(client.post("/report", data={**_form(client), "narrative": "x"}).text)
    assert code
    assert client.post("/exit").status_code == 204
    assert 'id="no-receipt"' in client.get("/receipt").text
