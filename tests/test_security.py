"""Security review as tests: every route's access rule, security headers, readiness, secrets
kept out of logs, schemathesis against the OpenAPI schema, and fuzzed importers."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ringtrace.access.policy import PERMISSIONS, ROLES
from ringtrace.errors import InvalidReport, RingtraceError
from ringtrace.settings import Settings
from ringtrace.store import Store
from ringtrace.web.app import create_app
from tests.factories import report

PASSWORD = "security-test-password"

# Every route of the app and what it requires: a permission, or "public". A new route fails
# this test until it is added here with its rule.
ROUTES: dict[tuple[str, str], str] = {
    ("GET", "/"): "public", ("POST", "/report"): "public",
    ("GET", "/status"): "public", ("POST", "/status"): "public",
    ("POST", "/status/add"): "public", ("POST", "/status/withdraw"): "public",
    ("GET", "/report"): "public", ("GET", "/receipt"): "public",
    ("GET", "/receipt/code.txt"): "public", ("POST", "/receipt/saved"): "public",
    ("POST", "/status/close"): "public", ("POST", "/status/fingerprint"): "public",
    ("POST", "/exit"): "public",
    ("GET", "/login"): "public", ("POST", "/login"): "public", ("POST", "/logout"): "public",
    ("GET", "/healthz"): "public", ("GET", "/readyz"): "public", ("GET", "/openapi.json"): "public",
    ("POST", "/api/reports"): "reports.write", ("GET", "/api/reports"): "reports.read",
    ("GET", "/api/reports/{report_id}"): "reports.read",
    ("GET", "/api/reports/{report_id}/attachments/{position}"): "evidence.download",
    ("GET", "/api/clusters"): "clusters.read", ("GET", "/api/clusters/{cluster_id}"): "clusters.read",
    ("GET", "/console"): "reports.read", ("GET", "/console/"): "reports.read",
    ("POST", "/console/alerts/seen"): "reports.read",
    ("GET", "/console/triage"): "triage.work", ("POST", "/console/triage/{report_id}"): "triage.work",
    ("GET", "/console/search"): "reports.read",
    ("POST", "/console/clusters/{cluster_id}/watch"): "clusters.read",
    ("GET", "/console/clusters"): "clusters.read", ("GET", "/console/clusters/{cluster_id}"): "clusters.read",
    ("POST", "/console/clusters/{cluster_id}/cut"): "clusters.edit",
    ("POST", "/console/clusters/{cluster_id}/unrelated"): "clusters.edit",
    ("GET", "/console/reports/{report_id}"): "reports.read", ("GET", "/console/report"): "reports.read",
    ("GET", "/console/audit"): "audit.read",
    ("GET", "/console/clusters/{cluster_id}/cut"): "clusters.edit",
    ("GET", "/console/clusters/{cluster_id}/unrelated"): "clusters.edit",
    ("GET", "/console/timeline/{cluster_id}"): "clusters.read",
    ("GET", "/console/explain"): "reports.read",
    ("GET", "/console/merge"): "clusters.edit", ("POST", "/console/merge"): "clusters.edit",
    ("GET", "/console/suggestions"): "clusters.read",
    ("POST", "/console/suggestions/{suggestion_id}"): "clusters.edit",
    ("GET", "/console/keys/{key_type}/{value:path}"): "reports.read",
    ("POST", "/console/keys/watch"): "reports.read",
    ("POST", "/console/clusters/{cluster_id}/case"): "clusters.edit",
    ("POST", "/console/clusters/{cluster_id}/notes"): "clusters.edit",
    ("POST", "/console/clusters/{cluster_id}/share"): "clusters.edit",
    ("POST", "/console/clusters/{cluster_id}/exports"): "evidence.download",
    ("GET", "/console/exports"): "evidence.download",
    ("GET", "/console/exports/{job_id}/download"): "evidence.download",
    ("GET", "/taxii2/"): "reports.read", ("GET", "/taxii2/api/"): "reports.read",
    ("GET", "/taxii2/api/collections/"): "reports.read",
    ("GET", "/taxii2/api/collections/{cid}/"): "reports.read",
    ("GET", "/taxii2/api/collections/{cid}/objects/"): "reports.read",
    ("POST", "/taxii2/api/collections/{cid}/objects/"): "reports.write",
}  # fmt: skip


@pytest.fixture
def secured(sqlite_settings: Settings) -> Iterator[tuple[TestClient, dict[str, str]]]:
    settings = sqlite_settings.model_copy(update={"home_agency": "test-agency"})
    store = Store.open(settings)
    store.migrate()
    tokens = {}
    for role in ROLES:
        store.accounts.add_user(f"{role}-user", PASSWORD, "test-agency", role)
        tokens[role] = store.accounts.create_token(f"{role}-user", "security tests")
    store.close()
    with TestClient(create_app(settings), base_url="https://testserver",
                    raise_server_exceptions=False) as client:  # fmt: skip
        client.post("/api/reports", json=report(narrative="+852 6123 4567"),
                    headers={"Authorization": f"Bearer {tokens['admin']}"})  # fmt: skip
        client.post("/api/reports", json=report(narrative="call +85261234567"),
                    headers={"Authorization": f"Bearer {tokens['admin']}"})  # fmt: skip
        yield client, tokens


def _flatten(routes: Any) -> Iterator[Any]:
    """Routes, with included routers opened (FastAPI includes them lazily)."""
    for r in routes:
        if hasattr(r, "original_router"):
            yield from _flatten(r.original_router.routes)
        else:
            yield r


def _concrete(path: str) -> str:
    return (path.replace("{report_id}", "1").replace("{cluster_id}", "1")
            .replace("{position}", "0").replace("{job_id}", "1").replace("{suggestion_id}", "1")
            .replace("{key_type}", "phone").replace("{value:path}", "%2B85261234567").replace("{cid}", "00000000-0000-0000-0000-000000000000"))  # fmt: skip


def test_every_route_requires_the_right_role(secured: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = secured
    app_routes = {
        (m, r.path)
        for r in _flatten(client.app.routes)  # type: ignore[attr-defined]
        for m in (getattr(r, "methods", None) or set()) - {"HEAD"}
        if not r.path.startswith("/static")
    }
    assert app_routes == set(ROUTES), sorted(app_routes ^ set(ROUTES))
    for (method, path), rule in ROUTES.items():
        url = _concrete(path)
        anon = client.request(method, url, follow_redirects=False)
        if rule == "public":
            # Answers without a login (a form may still refuse a missing CSRF token or a
            # wrong password, but never asks to log in first).
            assert not anon.headers.get("location", "").startswith("/login?next="), (method, path)
            assert "log in first" not in anon.text, (method, path)
            continue
        # Without a login: 401 for machines, a redirect to the login page for people.
        assert anon.status_code in (401, 303), (method, path, anon.status_code)
        if anon.status_code == 303:
            assert anon.headers["location"].startswith("/login")
        for role, token in tokens.items():
            res = client.request(method, url, follow_redirects=False,
                                 headers={"Authorization": f"Bearer {token}"})  # fmt: skip
            if role in PERMISSIONS[rule]:
                assert res.status_code not in (401, 403), (role, method, path, res.status_code)
            else:
                assert res.status_code == 403, (role, method, path, res.status_code)


def test_security_headers_everywhere(secured: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = secured
    h = {"Authorization": f"Bearer {tokens['analyst']}"}
    for url in ("/", "/status", "/login", "/console/clusters", "/api/reports", "/healthz"):
        res = client.get(url, headers=h)
        assert res.headers["x-content-type-options"] == "nosniff", url
        assert res.headers["x-frame-options"] == "DENY", url
        assert res.headers["referrer-policy"] == "no-referrer", url
        if res.headers["content-type"].startswith("text/html"):
            csp = res.headers["content-security-policy"]
            assert "default-src 'self'" in csp and "unsafe-inline" not in csp, url
    assert client.get("/api/reports", headers=h).headers["cache-control"] == "no-store"
    assert client.get("/api/docs").status_code == 404  # no CDN-loaded docs page


def test_readiness(sqlite_settings: Settings) -> None:
    with TestClient(create_app(sqlite_settings)) as client:
        res = client.get("/readyz")
        assert res.status_code == 503 and res.json()["status"] == "not_ready"
    Store.open(sqlite_settings).migrate()
    sqlite_settings.vault_dir.mkdir(parents=True, exist_ok=True)
    with TestClient(create_app(sqlite_settings)) as client:
        assert client.get("/readyz").json() == {"status": "ready", "problems": []}


def test_secrets_never_reach_the_logs(
    secured: tuple[TestClient, dict[str, str]], caplog: pytest.LogCaptureFixture
) -> None:
    client, tokens = secured
    caplog.set_level(logging.DEBUG)
    client.post("/login", data={"username": "analyst-user", "password": PASSWORD, "code": ""})
    client.post("/login", data={"username": "analyst-user", "password": "wrong-" + PASSWORD})
    client.get("/api/reports", headers={"Authorization": f"Bearer {tokens['analyst']}"})
    client.get("/api/reports", headers={"Authorization": "Bearer rt_not_a_real_token_value"})
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for secret in (PASSWORD, tokens["analyst"], "rt_not_a_real_token_value", "6123 4567"):
        assert secret not in logged


def test_openapi_schema_holds_under_schemathesis(
    secured: tuple[TestClient, dict[str, str]],
) -> None:
    """Generated requests against every documented API operation: never a 5xx."""
    import schemathesis

    client, tokens = secured
    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
    failures: list[str] = []
    h = {"Authorization": f"Bearer {tokens['admin']}"}

    def fuzz(operation: Any) -> None:
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def run(case: Any) -> None:
            res = case.call(headers=h)
            if res.status_code >= 500:
                failures.append(f"{operation.method.upper()} {operation.path}: {res.status_code}")

        run()

    operations = [op.ok() for op in schema.get_all_operations()]
    assert len(operations) >= 5
    for operation in operations:
        fuzz(operation)
    assert not failures, failures[:5]


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None)
@given(data=_json_values)
def test_stix_and_misp_importers_refuse_garbage_cleanly(data: Any) -> None:
    from ringtrace.share.misp import event_to_report
    from ringtrace.share.stix import to_reports

    for attempt in (
        lambda: to_reports(data, "x"),
        lambda: to_reports({"type": "bundle", "objects": data}, "x"),
        lambda: to_reports(
            {
                "type": "bundle",
                "objects": [
                    {
                        "type": "report",
                        "id": "report--1",
                        **(data if isinstance(data, dict) else {}),
                    }
                ],
            },
            "x",
        ),
        lambda: event_to_report({"Event": data}, "x"),
    ):
        try:
            attempt()
        except (InvalidReport, RingtraceError):
            pass
        except (KeyError, TypeError, AttributeError, ValueError) as e:
            pytest.fail(f"importer crashed on {data!r}: {type(e).__name__}: {e}")


@settings(max_examples=150, deadline=None)
@given(
    text=st.text(max_size=300), mapping_cols=st.lists(st.text(min_size=1, max_size=8), max_size=3)
)
def test_csv_importer_refuses_garbage_cleanly(text: str, mapping_cols: list[str]) -> None:
    from ringtrace.share.csv_import import rows_to_reports

    mapping = {"source": "s", "external_id": "id", "received_at": "date",
               "identifiers": {c: "phone" for c in mapping_cols}}  # fmt: skip
    try:
        docs = rows_to_reports("id,date\n" + text, mapping)
    except InvalidReport:
        return
    from ringtrace.intake.received import receive

    for d in docs:
        with contextlib.suppress(InvalidReport):
            receive(json.dumps(d))


def test_logs_are_json_lines_without_personal_data(
    secured: tuple[TestClient, dict[str, str]], caplog: pytest.LogCaptureFixture
) -> None:
    """What `ringtrace serve` writes: one JSON object per line, requests by route template,
    and exceptions by type and frames, never their message (a database error repeats the
    values it failed on)."""
    import json as jsonlib

    from ringtrace.logs import JsonFormatter

    client, tokens = secured
    h = {"Authorization": f"Bearer {tokens['analyst']}"}
    caplog.set_level(logging.DEBUG)
    doc = report(narrative="Her number was +852 6987 1234; my name is Wong Siu Ming",
                 source="test-agency", external_id="LOG-1")  # fmt: skip
    created = client.post("/api/reports", json=doc, headers=h)
    assert created.status_code == 201
    client.get(f"/api/reports/{created.json()['id']}?q=Wong", headers=h)
    try:
        raise ValueError("duplicate key value (phone)=(+85269871234) for Wong Siu Ming")
    except ValueError:
        logging.getLogger("ringtrace.test").exception("storing failed")
    fmt = JsonFormatter()
    server_side = [r for r in caplog.records if not r.name.startswith("httpx")]  # the client
    lines = [fmt.format(r) for r in server_side]
    parsed = [jsonlib.loads(line) for line in lines]
    requests = [p for p in parsed if p.get("event") == "request"]
    assert {"method": "GET", "route": "/api/reports/{report_id}", "status": 200} in [
        {k: p[k] for k in ("method", "route", "status")} for p in requests
    ]
    failed = next(p for p in parsed if p["msg"] == "storing failed")
    assert failed["error"] == "ValueError" and failed["frames"]
    out = "\n".join(lines)
    for personal in ("6987", "85269871234", "Wong", "Siu Ming", tokens["analyst"], "q="):
        assert personal not in out, personal
