"""The public report page without a browser: languages, catalogues, abuse resistance, crisis
handling, the follow-up code, and that everything works without JavaScript."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from importlib import resources

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from ringtrace.domain.models import ReportRef
from ringtrace.settings import Settings
from ringtrace.store import Store
from ringtrace.web import i18n
from ringtrace.web.app import create_app
from ringtrace.web.public import PostLimiter

PUBLIC_TEMPLATES = ("public_base.html", "index.html", "crisis.html", "receipt.html", "status.html")


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
    from ringtrace.web.public import COUNTRIES, METHODS

    used |= {n for _, n in COUNTRIES} | {n for _, n in METHODS}
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
        if src.startswith(("/static/", "?lang=", "/status", "#")):
            continue
        assert src == "https://www.google.com/search?q=weather", src  # the quick-exit link only


def test_report_without_javascript_receipt_code_and_status(
    client: TestClient, sqlite_settings: Settings
) -> None:
    csrf = _csrf(client)
    form = {
        "csrf": csrf,
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
    receipt = client.post("/report", data=form, files=files)
    assert receipt.status_code == 200, receipt.text
    reference = re.search(r'id="reference">([^<]+)<', receipt.text).group(1)  # type: ignore[union-attr]
    code = re.search(r'id="code">([^<]+)<', receipt.text).group(1)  # type: ignore[union-attr]
    assert reference.startswith("WEB-") and len(code) == 27
    assert 'id="crisis" hidden' in receipt.text  # no crisis signs: contacts not pushed
    # Only a hash of the code is stored.
    store = Store.open(sqlite_settings)
    from ringtrace.store.tables import followups

    with store.engine.connect() as conn:
        stored = conn.execute(select(followups.c.code_hash)).scalar_one()
    assert stored == hashlib.sha256(code.encode()).hexdigest() and code not in stored
    store.close()
    # Follow up: wrong code refused, right code opens; add a note; withdraw.
    csrf = _csrf(client, "/status")
    bad = client.post("/status", data={"csrf": csrf, "reference": reference, "code": "0000-0000"})
    assert bad.status_code == 403
    status = client.post("/status", data={"csrf": csrf, "reference": reference, "code": code})
    assert status.status_code == 200 and 'id="add-evidence"' in status.text
    added = client.post(
        "/status/add",
        data={
            "csrf": csrf,
            "reference": reference,
            "code": code,
            "note": "He wrote again from another number",
        },
    )
    assert added.status_code == 200 and "Your addition was received." in added.text
    # The addition is stored with the report it follows up, and counted on the status page.
    store = Store.open(sqlite_settings)
    rid = store.check_followup(ReportRef("web", reference), code)
    assert rid is not None and store.followup_additions(rid) == 1
    addition = store.report_id(ReportRef("web", f"{reference}-A1"))
    assert store.report(addition).summary.cluster_id == store.report(rid).summary.cluster_id
    store.close()
    assert 'id="additions" data-count="1"' in added.text
    # An empty addition stores nothing and says so.
    empty = client.post(
        "/status/add", data={"csrf": csrf, "reference": reference, "code": code, "note": " "}
    )
    assert "Your addition was received." not in empty.text
    assert "Nothing was added" in empty.text and 'data-count="1"' in empty.text
    gone = client.post(
        "/status/withdraw",
        data={"csrf": csrf, "reference": reference, "code": code, "confirm": "1"},
    )
    assert 'id="withdrawn"' in gone.text


def test_crisis_contacts_shown_and_report_urgent(
    client: TestClient, sqlite_settings: Settings
) -> None:
    csrf = _csrf(client, "/?lang=zh-Hant")
    receipt = client.post(
        "/report",
        data={
            "csrf": csrf,
            "lang": "zh-Hant",
            "narrative": "我真的不想活了，他要把影片發給我的家人",
        },
    )
    assert 'id="crisis" hidden' not in receipt.text and "befrienders.org" in receipt.text
    minor = client.post("/report", data={"csrf": csrf, "age_band": "under-18"})
    assert 'id="crisis" hidden' not in minor.text and "takeitdown" in minor.text
    store = Store.open(sqlite_settings)
    queue = store.triage_queue({r.id for r in store.reports(limit=10**6)})
    store.close()
    assert all(q["crisis"] and q["score"] >= 100 for q in queue) and len(queue) == 2


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
    assert store.count_reports() == 0
    store.close()
    # Too many posts from one client: 429.
    client.app.state.post_limiter = PostLimiter(limit=2)  # type: ignore[attr-defined]
    codes = [
        client.post("/report", data={"csrf": csrf, "narrative": "n"}).status_code for _ in range(3)
    ]
    assert codes == [200, 200, 429]
