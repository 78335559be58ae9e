"""The analyst's workbench in the system Chromium (issue 21): search a phone number, its
identifier page, a ring, explain two of its reports, cut a key with a preview and land on the
resulting ring, accept a suggestion, set the case status and a note, export the ring as STIX
and as a court package (downloaded and verified). Screenshots at desktop and phone sizes,
no sideways scrolling on a phone, axe-core at zero serious violations, no CSP violation."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ringtrace.services import suggestion_finder
from ringtrace.services.intake import import_lines
from ringtrace.settings import Settings
from tests.conftest import OUTPUT
from tests.factories import seed_demo
from tests.servers import serving

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"
PASSWORD = "workbench-test-password"
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
SHOTS = OUTPUT / "screenshots" / "workbench"
SCRIPT = (
    "Send 500 USDT to the wallet in 24 hours or your video goes to every contact you have. "
    "We have your whole contact list and your family will see everything."
)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, Any]]]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("workbench") / "data",
                        secure_cookies=False)  # fmt: skip
    store = seed_demo(settings)
    store.accounts.add_user("sg-analyst", PASSWORD, "sg-police", "analyst")
    store.accounts.add_user("sg-colleague", PASSWORD, "sg-police", "analyst")
    ring = max(store.clusters.many(), key=lambda c: len(c.reports))
    # A phone number every holder of which Singapore may see: a cut of it is Singapore's to make.
    from ringtrace.access.guards import _holders_all_visible
    from ringtrace.access.policy import Principal
    from ringtrace.access.sharing import Sharing

    sh = Sharing(store, Principal(0, "fixture", "analyst", "sg-police", "cli"))
    phone = next(lk.key.value for lk in ring.links
                 if lk.key.type == "phone" and _holders_all_visible(sh, lk.key))  # fmt: skip
    # A report wrongly linked to the big ring by a lent phone, and two unlinked reports that
    # carry the same script (a suggestion to accept).
    extra = [
        {"external_id": "SG-WRONG-1", "source": "sg-police", "tlp": "green",
         "received_at": "2024-10-02T10:00:00+08:00",
         "narrative": f"My cousin lent me his phone {phone}; this is about a lost parcel."},
        {"external_id": "SG-SCRIPT-1", "source": "sg-police", "tlp": "green",
         "received_at": "2024-10-03T09:00:00+08:00", "narrative": "He threatened me.",
         "messages": [{"from": "offender", "text": SCRIPT,
                       "sent_at": "2024-10-02T22:15:00+08:00"}]},
        {"external_id": "SG-SCRIPT-2", "source": "sg-police", "tlp": "green",
         "received_at": "2024-10-04T09:00:00+08:00", "narrative": "Same threat to me.",
         "messages": [{"from": "offender", "text": SCRIPT + " Pay now.",
                       "sent_at": "2024-10-03T23:40:00+08:00"}]},
    ]  # fmt: skip
    import_lines(store, [json.dumps(d) for d in extra])
    assert suggestion_finder.refresh(store) >= 1
    store.close()
    with serving(settings) as url:
        yield url, {"phone": phone, "ring": ring.id}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: install the Debian package `chromium`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        args = ["--no-sandbox", "--disable-gpu", "--no-first-run"]
        b = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=args)
        yield b
        b.close()


def _login(page: Any, site: str) -> None:
    page.goto(f"{site}/login")
    page.fill("#username", "sg-analyst")
    page.fill("#password", PASSWORD)
    page.click("#login button[type=submit]")
    page.wait_for_selector("#who")


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)


def _no_sideways_scroll(page: Any) -> None:
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], (page.url, width)


def test_an_analyst_works_a_case(seeded: tuple[str, dict[str, Any]], browser: Any) -> None:
    site, facts = seeded
    context = browser.new_context(viewport=DESKTOP, accept_downloads=True)
    page = context.new_page()
    csp: list[str] = []
    page.on(
        "console", lambda m: csp.append(m.text) if "Content Security Policy" in m.text else None
    )
    _login(page, site)

    # Search a phone number, written as a victim might; open its identifier page.
    digits = facts["phone"].lstrip("+")
    page.goto(f"{site}/console/search?q=%2B{digits[:3]}%20{digits[3:7]}%20{digits[7:]}")
    assert page.locator("#hits tbody tr").count() >= 2
    page.locator("main a.key", has_text=facts["phone"]).first.click()
    page.wait_for_selector("#key-reports")
    assert page.locator("#key-reports tbody tr").count() >= 2
    assert "It links reports" in page.locator("#linking").inner_text()
    page.locator("#watch-key button").click()
    assert page.locator("#watch-key button").inner_text() == "Stop watching"

    # The ring it joins.
    page.locator("#rings a").first.click()
    page.wait_for_selector("#ring-graph[data-ready]")
    ring_url = page.url
    assert page.locator("h1").inner_text().startswith("Ring ")
    assert page.locator(".legend input.graph-group").count() >= 3

    # Explain two of its reports: a path of shared keys.
    page.locator("#reports a.explain").nth(3).click()
    page.wait_for_selector("#chain")
    assert page.locator("#chain .hop-key").count() >= 1
    assert page.locator("#chain .hop-report").count() == page.locator("#chain .hop-key").count() + 1

    # Cut the lent phone with a preview, and land on the resulting ring.
    page.goto(ring_url)
    row = page.locator("#reports tbody tr", has_text="SG-WRONG-1").first
    before = page.locator("#reports tbody tr").count()
    row.locator("button", has_text="Preview a cut").click()
    page.wait_for_load_state()
    assert page.locator("#preview").count(), (page.url, page.locator("main").inner_text()[:500])
    preview = page.locator("#preview").inner_text()
    assert "would split" in preview and "SG-WRONG-1" in preview
    _shot(page, "cut-preview-1366.png")
    page.fill("#reason", "wrongly linked: a phone lent by a cousin")
    page.click("#confirm button[type=submit]")
    page.wait_for_selector("#outcome")
    assert "/console/clusters/" in page.url and "404" not in page.title()
    assert page.locator("#reports tbody tr").count() < before
    assert "SG-WRONG-1" not in page.locator("#reports").inner_text()
    ring_url = page.url.split("?")[0]

    # Accept a suggestion: the two reports with one script become a ring.
    page.goto(f"{site}/console/suggestions")
    card = page.locator(".suggestion", has_text="SG-SCRIPT-1").first
    assert card.locator("blockquote.script").count() == 2  # the evidence, side by side
    card.locator("input[name=reason]").fill("the same extortion script, word for word")
    card.locator("button[value=accept]").click()
    page.wait_for_selector("#outcome")
    assert "SG-SCRIPT-2" in page.locator("#reports").inner_text()

    # Status, owner, tags and a note on the big ring.
    page.goto(ring_url)
    page.select_option("#status", "investigating")
    page.select_option("#owner", "sg-analyst")
    page.fill("#tags", "apk, whatsapp")
    page.click("#case-form button[type=submit]")
    page.wait_for_selector("#case-status")
    assert page.locator("#case-status").inner_text() == "investigating"
    assert page.locator("#case-owner").inner_text() == "sg-analyst"
    page.fill("#note", "Asked hk-police for the server logs.")
    page.click("#note-form button[type=submit]")
    assert "Asked hk-police for the server logs." in page.locator("#notes").inner_text()

    # Export the ring as STIX and as a court package; download and verify both.
    files = {}
    for fmt in ("stix", "court"):
        page.goto(ring_url)
        page.select_option("#format", fmt)
        page.click("#export-form button[type=submit]")
        page.wait_for_selector("#exports")
        job = page.locator("#exports tbody tr").first
        for _ in range(60):
            if job.get_attribute("data-status") in ("done", "failed"):
                break
            page.wait_for_timeout(500)
            page.reload()
            job = page.locator("#exports tbody tr").first
        assert job.get_attribute("data-status") == "done", job.inner_text()
        with page.expect_download() as dl:
            job.locator("a.download").click()
        path = SHOTS.parent.parent / f"workbench-export.{fmt}"
        dl.value.save_as(path)
        files[fmt] = path
    from ringtrace.evidence.package import verify
    from ringtrace.share.stix import validate

    bundle = json.loads(files["stix"].read_text(encoding="utf-8"))
    assert bundle["type"] == "bundle" and not validate(bundle)
    kinds = {o["type"] for o in bundle["objects"]}
    assert {"grouping", "report", "domain-name"} <= kinds and "chat-priv.top" in json.dumps(bundle)
    assert verify(files["court"]) == []
    assert not csp, csp
    context.close()


def test_screenshots_phone_layout_and_accessibility(
    seeded: tuple[str, dict[str, Any]], browser: Any
) -> None:
    site, facts = seeded
    results: dict[str, list[str]] = {}
    for size_name, viewport in (("1366", DESKTOP), ("390", PHONE)):
        # axe is injected as an inline script, which the pages' CSP forbids: this context
        # bypasses CSP for the audit only (the walk above checks that no CSP error occurs).
        context = browser.new_context(viewport=viewport, bypass_csp=True)
        page = context.new_page()
        _login(page, site)
        page.goto(f"{site}/console/clusters")
        page.locator("#clusters tbody tr a").first.click()
        page.wait_for_selector("#ring-graph[data-ready]")
        ring_url = page.url
        explain_url = page.locator("#reports a.explain").nth(2).get_attribute("href")
        urls = {
            "ring": ring_url,
            "explain": f"{site}{explain_url}",
            "identifier": f"{site}/console/keys/phone/%2B{facts['phone'].lstrip('+')}",
            "timeline": ring_url.replace("/clusters/", "/timeline/") + "?tz=Asia/Singapore",
            "suggestions": f"{site}/console/suggestions?show=all",
            "search": f"{site}/console/search?q=chat-priv.top",
            "report": f"{site}/console/report?source=sg-police&external_id=SG-SCRIPT-1",
            "report-demo": f"{site}/console/report?source=sg-police&external_id=SG-24-01074",
            "triage": f"{site}/console/triage",
            "rings": f"{site}/console/clusters",
        }
        for name, url in urls.items():
            page.goto(url)
            if name == "ring":
                page.wait_for_selector("#ring-graph[data-ready]")
                page.locator("#ring-graph").screenshot(path=str(SHOTS / f"graph-{size_name}.png"))
            _shot(page, f"{name}-{size_name}.png")
            _no_sideways_scroll(page)
            page.add_script_tag(path=str(AXE))
            report = page.evaluate(
                "async () => await axe.run(document, {resultTypes: ['violations']})"
            )
            results[f"{name}-{size_name}"] = [
                f"{v['id']} ({v['impact']}): {v['nodes'][0]['target']}"
                for v in report["violations"]
            ]
        context.close()
    (OUTPUT / "axe-workbench.json").write_text(json.dumps(results, indent=2))
    assert not any(results.values()), results
