"""The public report page in real Chromium: a complete report in every language on a phone
and a desktop, the follow-up with the code (add evidence, see the link, withdraw), the
analyst seeing it linked, no request to any other host, and axe-core on every page."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ringtrace.demo import INTAKE_AGENCY, PUBLIC_ROUTES
from ringtrace.settings import Settings
from ringtrace.store import Store
from tests.conftest import DATA, OUTPUT
from tests.factories import seed_demo
from tests.servers import serving

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
IMAGE = DATA / "pdq" / "images" / "wee.jpg"
PASSWORD = "public-browser-password"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
TEXTS = {
    "en": ("I met her on a dating site and she recorded our video call.", "You are not at fault"),
    "zh-Hant": ("我在交友網站認識她，她錄下了我們的視像通話。", "這不是你的錯"),
    "zh-Hans": ("我在交友网站认识她，她录下了我们的视频通话。", "这不是你的错"),
    "ms": (
        "Saya kenal dia di laman temu janji dan dia rakam panggilan video kami.",
        "Ini bukan salah anda",
    ),
}


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    # The demo's routing: each country to its agency, the rest to the intake helpline.
    return Settings(
        data_dir=tmp_path_factory.mktemp("public") / "data",
        secure_cookies=False,
        public_routes=PUBLIC_ROUTES,
        public_intake_agency=INTAKE_AGENCY,
    )


@pytest.fixture(scope="module")
def served(settings: Settings) -> Iterator[tuple[str, str]]:
    store = seed_demo(settings)
    store.accounts.add_user("sg-analyst", PASSWORD, "sg-police", "analyst")
    store.accounts.add_user("intake-support", PASSWORD, INTAKE_AGENCY, "victim_support")
    ring = max(store.clusters.many(), key=lambda c: len(c.reports))
    ring_phone = next(lk.key.value for lk in ring.links if lk.key.type == "phone")
    store.close()
    with serving(settings) as url:
        yield url, ring_phone


def _count(settings: Settings) -> int:
    store = Store.open(settings)
    try:
        return store.reports.count()
    finally:
        store.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail(
            "Chromium is missing: install the Debian package `chromium` (scripts/test does)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield b
        b.close()


def _shot(page: Any, name: str) -> None:
    out = OUTPUT / "screenshots" / "public"
    out.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(out / name), full_page=True)


def _file_report(
    page: Any, site: str, lang: str, ring_phone: str, tag: str, chat: Path
) -> tuple[str, str]:
    page.goto(f"{site}/?lang={lang}")
    assert page.get_attribute("html", "lang") == lang
    assert TEXTS[lang][1] in page.locator("h1").inner_text()
    # Nothing takes the focus or scrolls on load: the guidance and the exit come first.
    assert page.evaluate("window.scrollY") == 0
    assert page.evaluate("document.activeElement === document.body")
    assert page.locator("#quick-exit").is_visible()
    # One step at a time once JavaScript runs; every other step is hidden.
    assert page.locator("#step-1").is_visible() and not page.locator("#step-2").is_visible()
    assert page.locator("#prev").is_disabled()
    page.fill("#narrative", TEXTS[lang][0])
    page.select_option("#age_band", "25-34")
    page.select_option("#country", "SG")
    assert page.locator("#crisis").is_hidden()  # nothing in these words calls for it
    _shot(page, f"{tag}-1-what-happened.png")
    page.click("#next")
    # Single-line fields are styled like the others (full width, readable text).
    width = page.evaluate("document.getElementById('platform').getBoundingClientRect().width")
    size = page.evaluate(
        "parseFloat(getComputedStyle(document.getElementById('platform')).fontSize)"
    )
    assert width > 300 and size >= 16, (width, size)
    page.fill("#platform", "a dating site")
    _shot(page, f"{tag}-2-where.png")
    page.click("#next")
    page.fill("#identifiers", f"{ring_phone}\n@lovely_lily_22 (Instagram)")
    page.fill("#messages", "Pay 5000 SGD or everyone sees the video")
    _shot(page, f"{tag}-3-who.png")
    page.click("#next")
    page.fill("#demanded", "5000")
    page.fill("#currency", "SGD")
    page.select_option("#method", "bank_transfer")
    page.fill("#account", "DBS 123-45678-9")
    _shot(page, f"{tag}-4-money.png")
    page.click("#next")
    page.fill("#app_link", "hxxp://chat-priv[.]top/app.apk")
    page.set_input_files("#evidence", str(chat))
    _shot(page, f"{tag}-5-evidence.png")
    page.click("#next")
    # Fingerprint-only photos are a step of their own; each one listed, and removable.
    page.set_input_files("#own-files", [str(IMAGE), str(DATA / "pdq" / "images" / "small.jpg")])
    page.wait_for_selector('#hash-status[data-count="2"]')
    assert page.locator("#fingerprints li").count() == 2
    page.locator("#fingerprints li").nth(1).locator("button").click()
    page.wait_for_selector('#hash-status[data-count="1"]')
    assert "wee.jpg" in page.locator("#fingerprints").inner_text()
    _shot(page, f"{tag}-6-fingerprints.png")
    page.click("#next")
    page.check("input[name=consent_share]")
    page.check("input[name=consent_linked]")
    _shot(page, f"{tag}-7-choices.png")
    page.click("#send")
    page.wait_for_selector("#reference")
    assert page.url == f"{site}/receipt"
    _shot(page, f"{tag}-8-receipt.png")
    ref = page.locator("#reference").inner_text().strip()
    code = page.locator("#code").inner_text().strip()
    assert page.locator(".takedown-ref").count() == 1
    return ref, code


def _open_status(page: Any, site: str, ref: str, code: str) -> None:
    page.goto(f"{site}/status")
    if page.locator("#close").count():
        page.click("#close button[type=submit]")
    page.fill("#reference", ref)
    page.fill("#code", code)
    page.click("#status-login button[type=submit]")
    page.wait_for_selector("#status")


def _analyst(browser: Any, site: str, user: str) -> Any:
    """A console page logged in as ``user``, in a desktop browser of its own."""
    analyst = browser.new_context(viewport=DESKTOP).new_page()
    analyst.goto(f"{site}/login")
    analyst.fill("#username", user)
    analyst.fill("#password", PASSWORD)
    analyst.click("#login button[type=submit]")
    analyst.wait_for_load_state()
    return analyst


@pytest.mark.parametrize("lang", list(TEXTS))
@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_report_follow_up_and_withdraw(
    served: tuple[str, str],
    settings: Settings,
    browser: Any,
    lang: str,
    viewport: str,
    tmp_path: Path,
) -> None:
    site, ring_phone = served
    size = PHONE if viewport == "phone" else DESKTOP
    context = browser.new_context(
        viewport=size, is_mobile=viewport == "phone", has_touch=viewport == "phone", locale=lang
    )
    page = context.new_page()
    urls: list[str] = []
    page.on("request", lambda r: urls.append(r.url))
    chat = tmp_path / "chat-export.txt"
    chat.write_text("[21:14] lily: send 5000 SGD or I post the video\n", encoding="utf-8")
    tag = f"{viewport}-{lang}"
    before = _count(settings)
    ref, code = _file_report(page, site, lang, ring_phone, tag, chat)

    # Reload, a language switch and Back-then-Forward never send it again or lose the code.
    page.reload()
    assert page.locator("#code").inner_text().strip() == code
    other = next(x for x in TEXTS if x != lang)
    page.click(f'nav.langs a[hreflang="{other}"]')
    page.wait_for_selector(f'html[lang="{other}"]')
    assert page.locator("#code").inner_text().strip() == code
    page.click(f'nav.langs a[hreflang="{lang}"]')
    page.wait_for_selector(f'html[lang="{lang}"]')
    page.go_back()
    page.go_forward()
    page.wait_for_selector("#reference")
    assert page.locator("#code").inner_text().strip() == code
    assert _count(settings) == before + 1
    page.check("#saved-form input[name=confirm]")
    page.click("#saved")
    page.wait_for_selector("#code-saved")
    assert page.locator("#reference").inner_text().strip() == ref
    _shot(page, f"{tag}-9-receipt-saved.png")

    _open_status(page, site, ref, code)
    assert page.locator("#linked").count() == 0  # nobody has reviewed it yet
    _shot(page, f"{tag}-10-status.png")

    # The report is in the triage queue of the agency for Singapore, for its analyst; taking
    # it is the review that lets the status page say it is linked.
    analyst = _analyst(browser, site, "sg-analyst")
    analyst.goto(f"{site}/console/triage")
    row = analyst.locator("#queue tr", has_text=ref)
    assert row.count() == 1
    row.locator("button[value=take]").click()
    analyst.wait_for_load_state()
    analyst.goto(f"{site}/console/report?source=sg-police&external_id={ref}")
    assert analyst.locator('a[href^="/console/clusters/"]', has_text="Ring").count() == 1
    assert ring_phone in analyst.content()
    analyst.context.close()

    page.reload()
    assert page.locator("#linked").is_visible()
    assert not re.search(r"\d", page.locator("#linked").inner_text())  # never a count
    page.fill("#note", "He wrote again from another number")
    page.set_input_files("#more-evidence", str(chat))
    page.click("#add-evidence button[type=submit]")
    page.wait_for_selector("#notice")
    additions = page.locator("#additions")
    assert additions.get_attribute("data-count") == "1"
    assert re.search(r"\b1$", additions.inner_text().strip()), additions.inner_text()
    _shot(page, f"{tag}-11-added.png")
    # Their own image's fingerprint can be taken off the takedown list.
    page.click("#fingerprints-sent button[type=submit]")
    page.wait_for_selector("#notice")
    assert page.locator("#fingerprints-sent button").count() == 0

    page.check("#withdraw input[name=confirm]")
    page.click("#withdraw button[type=submit]")
    page.wait_for_selector("#withdrawn")
    _shot(page, f"{tag}-12-withdrawn.png")
    page.close()
    context.close()
    # Nothing but this site was ever asked for anything.
    foreign = [u for u in urls if not u.startswith(site) and not u.startswith(("data:", "blob:"))]
    assert not foreign, foreign


CRISIS_WORDS = {
    "en": "I want to kill myself",
    "zh-Hant": "我想自殺",
    "zh-Hans": "我想自杀",
    "ms": "saya nak bunuh diri",
}


@pytest.mark.parametrize("lang", list(CRISIS_WORDS))
def test_crisis_help_appears_while_typing(served: tuple[str, str], browser: Any, lang: str) -> None:
    site, _ = served
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale=lang)
    page = context.new_page()
    page.goto(f"{site}/?lang={lang}")
    assert page.locator("#crisis").is_hidden()
    page.locator("#narrative").press_sequentially(CRISIS_WORDS[lang])
    page.wait_for_selector("#crisis", state="visible")
    # Said where they are typing too (the help itself may be above the screen).
    assert page.locator("#crisis-nudge").is_visible()
    # Without a country: the Hong Kong, Singapore and Malaysia numbers, tappable.
    assert page.locator('.crisis-lines[data-country="HK"] a[href="tel:+85223892222"]').is_visible()
    assert page.locator('.crisis-lines[data-country="MY"]').is_visible()
    page.select_option("#country", "MY")
    assert page.locator('.crisis-lines[data-country="MY"] a[href="tel:+60376272929"]').is_visible()
    assert page.locator('.crisis-lines[data-country="HK"]').is_hidden()
    _shot(page, f"crisis-typing-{lang}.png")
    page.click("#send")
    page.wait_for_selector("#reference")
    assert page.locator('#crisis .crisis-lines[data-country="MY"] a.tel').first.is_visible()
    context.close()


def test_back_after_quick_exit_shows_no_page_of_the_site(
    served: tuple[str, str], browser: Any
) -> None:
    site, _ = served
    for viewport, how in ((PHONE, "button"), (DESKTOP, "keys")):
        context = browser.new_context(viewport=viewport)
        page = context.new_page()
        # The neutral page is answered here: the test never reaches the outside host.
        context.route(
            "https://www.google.com/**",
            lambda route: route.fulfill(
                status=200, content_type="text/html", body="<title>Weather</title><p>weather</p>"
            ),
        )
        page.goto(f"{site}/?lang=en")
        page.fill("#narrative", "he recorded me")
        page.click("#send")
        page.wait_for_selector("#code")
        page.goto(f"{site}/status")
        page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
        assert page.locator("#quick-exit").is_visible()  # sticky: in view after scrolling
        if how == "button":
            page.click("#quick-exit")
        else:
            page.keyboard.press("Shift+Escape")
        page.wait_for_url("https://www.google.com/**")
        # Back (again and again) reaches no page of this site: one reached from history
        # after an exit leaves at once, before anything of it is shown.
        for _ in range(3):
            page.go_back()
            page.wait_for_url(lambda url: not url.startswith(site))
            assert "Report sextortion" not in page.content()
        # Coming back on purpose (a new visit) shows the site as usual again, and the
        # receipt with its code is gone from this device.
        page.goto(f"{site}/?lang=en")
        assert page.locator("#report-form").is_visible()
        page.goto(f"{site}/receipt")
        assert page.locator("#no-receipt").is_visible() and page.locator("#code").count() == 0
        context.close()


def test_report_reaches_the_intake_agency_without_a_country(
    served: tuple[str, str], settings: Settings, browser: Any
) -> None:
    site, _ = served
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.goto(f"{site}/?lang=zh-Hant")
    page.fill("#narrative", "他要我在24小時內付錢")
    page.select_option("#age_band", "under-18")
    page.click("#send")
    page.wait_for_selector("#reference")
    ref = page.locator("#reference").inner_text().strip()
    support = _analyst(browser, site, "intake-support")
    support.goto(f"{site}/console/triage")
    first = support.locator("#queue tbody tr").first
    assert ref in first.inner_text() and "crisis" in (first.get_attribute("class") or "")
    support.goto(f"{site}/console/")
    assert support.locator("#alerts .urgent-alert", has_text=ref).count() == 0  # by id
    assert support.locator("#alerts .urgent-alert").count() >= 1
    support.context.close()
    context.close()


def test_accessibility_on_every_public_page(served: tuple[str, str], browser: Any) -> None:
    site, _ = served
    assert AXE.exists(), "axe-core is missing: scripts/setup installs it with npm"
    # axe is injected as an inline script, which the pages' CSP rightly forbids: this context
    # bypasses CSP for the audit only.
    context = browser.new_context(viewport=PHONE, bypass_csp=True)
    page = context.new_page()
    pages = {
        "index": f"{site}/?lang=en",
        "index-zh-Hant": f"{site}/?lang=zh-Hant",
        "index-ms": f"{site}/?lang=ms",
        "status": f"{site}/status",
        "error-zh-Hans": f"{site}/no-such-page?lang=zh-Hans",
    }
    results: dict[str, list[str]] = {}

    def audit(name: str) -> None:
        page.add_script_tag(path=str(AXE))
        report = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
        bad = [
            f"{v['id']} ({v['impact']}): {v['nodes'][0]['target']}"
            for v in report["violations"]
            if v["impact"] in ("minor", "moderate", "serious", "critical")
        ]
        results[name] = bad

    for name, url in pages.items():
        page.goto(url)
        audit(name)
        _shot(page, f"page-{name}.png")
    # Every step of the form, and the receipt.
    page.goto(f"{site}/?lang=en")
    page.fill("#narrative", "I want to end my life")
    audit("crisis-shown")
    for step in range(2, 8):
        page.click("#next")
        audit(f"step-{step}")
    page.click("#send")
    page.wait_for_selector("#reference")
    audit("receipt")
    ref = page.locator("#reference").inner_text().strip()
    code = page.locator("#code").inner_text().strip()
    _open_status(page, site, ref, code)
    audit("status-open")
    context.close()
    (OUTPUT / "axe-public.json").write_text(json.dumps(results, indent=2))
    assert not any(results.values()), results


def test_works_without_javascript(served: tuple[str, str], browser: Any) -> None:
    site, _ = served
    context = browser.new_context(viewport=PHONE, java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{site}/?lang=zh-Hans")
    # Every step is on the page at once; the step buttons stay hidden.
    assert all(page.locator(f"#step-{n}").is_visible() for n in range(1, 8))
    assert not page.locator("#step-nav").is_visible()
    page.fill("#narrative", "他录下了视频，要我付钱")
    page.click("#send")
    page.wait_for_selector("#reference")
    assert page.locator("#code").inner_text().strip()
    context.close()
