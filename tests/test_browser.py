"""What an analyst sees, in the system Chromium (Playwright, headless)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ringtrace.demo import generate
from ringtrace.ingest import import_lines
from ringtrace.settings import Settings
from ringtrace.store import Store
from tests.conftest import OUTPUT

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    import uvicorn

    from ringtrace.web.app import create_app

    settings = Settings(data_dir=tmp_path_factory.mktemp("browser") / "data")
    store = Store.open(settings)
    store.migrate()
    import_lines(store, [json.dumps(d, ensure_ascii=False) for d in generate().reports])
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def page(site: str):  # type: ignore[no-untyped-def]
    if not CHROMIUM.exists():
        pytest.fail(
            "Chromium is missing: install the Debian package `chromium` (scripts/test does)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )  # fmt: skip
        pg = browser.new_page(viewport={"width": 1280, "height": 900})
        yield pg
        browser.close()


def _shot(page, name: str) -> Path:  # type: ignore[no-untyped-def]
    out = OUTPUT / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    path = out / name
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
    return path


def test_cluster_list_and_cluster_page(site: str, page) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{site}/console/clusters")
    rows = page.locator("#clusters tbody tr")
    assert rows.count() == 5
    first = rows.nth(0)
    assert first.locator("td").nth(1).inner_text() == "34"
    assert "chat-priv.top" in first.inner_text()
    _shot(page, "cluster-list.png")

    first.locator("a").first.click()
    page.wait_for_selector("#links")
    assert page.locator("#reports tbody tr").count() == 34
    assert "chat-priv.top" in page.locator("#links").inner_text()
    # Every report row says which keys put it there.
    reasons = page.locator("#reports tbody tr td:last-child")
    assert all(reasons.nth(i).inner_text().strip() for i in range(reasons.count()))
    _shot(page, "cluster-page.png")

    page.locator("#reports tbody tr a").first.click()
    page.wait_for_selector("#indicators")
    assert page.locator("#indicators tbody tr").count() >= 1
    _shot(page, "report-page.png")


def test_public_page_guidance_then_form(site: str, page) -> None:  # type: ignore[no-untyped-def]
    page.goto(site + "/")
    assert page.get_by_text("Do not pay").is_visible()
    page.fill("#narrative", "They threatened me from +852 6123 4567")
    page.select_option("#country", "HK")
    page.click("button[type=submit]")
    page.wait_for_selector("#reference")
    assert page.locator("#reference").inner_text().startswith("WEB-")
    _shot(page, "public-receipt.png")
