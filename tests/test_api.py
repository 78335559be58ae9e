"""The JSON API and pages, in-process."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from ringtrace.settings import Settings
from ringtrace.store import Store
from ringtrace.store.clusters import ClusterRepo
from ringtrace.web.app import create_app
from tests.factories import report


def _authorised(settings: Settings) -> str:
    """Migrate, and create an analyst of the reports' agency with an API token."""
    store = Store.open(settings)
    store.migrate()
    store.accounts.add_user("tester", "a long test password", "test-agency", "admin")
    token = store.accounts.create_token("tester", "tests")
    store.close()
    return token


@pytest.fixture
def client(sqlite_settings: Settings) -> Iterator[TestClient]:
    settings = sqlite_settings.model_copy(update={"home_agency": "test-agency"})
    token = _authorised(settings)
    with TestClient(
        create_app(settings), base_url="https://testserver", raise_server_exceptions=False
    ) as c:
        c.headers["Authorization"] = f"Bearer {token}"
        yield c


def test_post_report_links_and_is_idempotent(client: TestClient) -> None:
    first = report(
        narrative="WhatsApp +852 6123 4567",
        reporter={"country": "HK", "contact": "me@mail.invalid"},
    )
    r1 = client.post("/api/reports", content=json.dumps(first))
    assert r1.status_code == 201
    again = client.post("/api/reports", content=json.dumps(first))
    assert again.status_code == 200 and again.json()["created"] is False
    r2 = client.post(
        "/api/reports", json=report(narrative="call 6123 4567", reporter={"country": "HK"})
    )
    assert r2.status_code == 201
    assert r2.json()["cluster_id"] == r1.json()["id"]
    clusters = client.get("/api/clusters").json()["clusters"]
    assert len(clusters) == 1 and len(clusters[0]["reports"]) == 2
    one = client.get(f"/api/clusters/{clusters[0]['id']}").json()
    assert one["links"][0]["key"]["value"] == "+85261234567"
    detail = client.get(f"/api/reports/{r1.json()['id']}").json()
    # The agency's own staff see its reporter's contact details (and the view is audited).
    assert detail["document"]["reporter"]["contact"] == "me@mail.invalid"
    assert detail["access"] == "full"
    assert detail["indicators"][0]["occurrences"][0]["raw"] == "+852 6123 4567"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ("{not json", 422, "invalid_report"),
        (json.dumps({"external_id": "x"}), 422, "invalid_report"),
        (json.dumps([1, 2]), 422, "invalid_report"),
        (b"\xff\xfe", 422, "invalid_report"),
    ],
)
def test_bad_bodies_get_json_errors_with_stable_codes(
    client: TestClient, body: str | bytes, status: int, code: str
) -> None:
    res = client.post("/api/reports", content=body)
    assert res.status_code == status
    assert res.json()["error"]["code"] == code


def test_conflicting_resubmission_is_409(client: TestClient) -> None:
    doc = report(narrative="a")
    client.post("/api/reports", json=doc)
    res = client.post("/api/reports", json={**doc, "narrative": "b"})
    assert res.status_code == 409
    assert res.json()["error"]["code"] == "conflict"


def test_oversized_report_is_refused(sqlite_settings: Settings) -> None:
    small = sqlite_settings.model_copy(update={"max_report_bytes": 200})
    token = _authorised(small)
    with TestClient(create_app(small)) as c:
        res = c.post("/api/reports", json=report(narrative="x" * 500),
                     headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    assert res.status_code == 413  # refused as soon as the body passes the limit
    assert "larger than 200 bytes" in res.json()["error"]["message"]


def test_unexpected_errors_never_show_a_stack_trace(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*a: object, **k: object) -> None:
        raise RuntimeError("secret internals at /srv/x.py line 3")

    monkeypatch.setattr(ClusterRepo, "ids", boom)
    res = client.get("/api/clusters")
    assert res.status_code == 500
    assert res.json() == {
        "error": {"code": "internal", "message": "internal error; the request was not completed"}
    }
    page = client.get("/console/clusters")
    assert page.status_code == 500 and "secret internals" not in page.text


def test_unknown_ids_are_404(client: TestClient) -> None:
    assert client.get("/api/reports/999").json()["error"]["code"] == "not_found"
    assert client.get("/console/clusters/999").status_code == 404


def test_openapi_describes_the_report_body(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    body = spec["paths"]["/api/reports"]["post"]["requestBody"]
    assert (
        body["content"]["application/json"]["schema"]["$ref"]
        == "#/components/schemas/ReportDocument"
    )
    assert "external_id" in spec["components"]["schemas"]["ReportDocument"]["properties"]


def test_public_form_at_the_root_files_a_report(client: TestClient) -> None:
    home = client.get("/")
    assert home.status_code == 200
    assert "Do not pay" in home.text
    assert home.text.index("Do not pay") < home.text.index("<form")  # guidance comes first
    csrf = re.search(r'name="csrf" value="([^"]+)"', home.text)
    assert csrf
    res = client.post(
        "/report",
        data={
            "csrf": csrf.group(1),
            "narrative": "they used +852 6123 4567",
            "identifiers": "t.me/ringboss",
            "country": "HK",
        },
    )
    assert res.status_code == 200 and "WEB-" in res.text
    [summary] = client.get("/api/reports").json()["reports"]
    # No route set: the report belongs to the intake agency, the home agency by default.
    assert summary["source"] == "test-agency" and summary["country"] == "HK"
    detail = client.get(f"/api/reports/{summary['id']}").json()
    assert {i["value"] for i in detail["indicators"]} >= {"+85261234567", "http://t.me/ringboss"}


def test_console_pages_show_clusters_and_reasons(client: TestClient) -> None:
    a = client.post(
        "/api/reports", json=report(external_id="HK-A", narrative="chat-priv[.]top/app.apk")
    ).json()
    client.post(
        "/api/reports",
        json=report(
            external_id="SG-B",
            narrative="hxxp://chat-priv[.]top/app.apk and https://www.whatsapp.com/",
        ),
    )
    client.post(
        "/api/reports", json=report(external_id="SG-C", narrative="https://www.whatsapp.com/")
    )
    listing = client.get("/console/clusters").text
    assert f"Ring {a['id']}" in listing
    page = client.get(f"/console/clusters/{a['id']}").text
    assert "chat-priv.top" in page and "HK-A" in page and "SG-B" in page
    assert "SG-C" not in page  # shares only a platform domain
    assert client.get("/console/").status_code == 200
