"""Hostile input at the edge: bodies past their limit, malformed JSON and TAXII envelopes,
forged client addresses, and password guessing that must not lock the real user out."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any

import httpx2 as httpx
import pyotp
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.requests import Request

from ringtrace.settings import Settings
from ringtrace.store import Store
from ringtrace.web.app import create_app
from ringtrace.web.limits import ClientAddress
from ringtrace.web.throttle import LoginThrottle, PostLimiter
from tests.factories import report
from tests.servers import serving

PASSWORD = "hostile-test-password"
MB = 1024 * 1024


@pytest.fixture
def world(sqlite_settings: Settings) -> Iterator[tuple[Settings, dict[str, str]]]:
    settings = sqlite_settings.model_copy(
        update={"home_agency": "test-agency", "max_report_bytes": MB, "secure_cookies": False}
    )
    store = Store.open(settings)
    store.migrate()
    store.accounts.add_user("writer", PASSWORD, "test-agency", "admin")
    token = store.accounts.create_token("writer", "hostile tests")
    secret = store.accounts.add_user("with-code", PASSWORD, "test-agency", "analyst", totp=True)
    store.close()
    yield settings, {"token": token, "totp": secret or ""}


@pytest.fixture
def client(world: tuple[Settings, dict[str, str]]) -> Iterator[TestClient]:
    settings, _ = world
    with TestClient(create_app(settings), raise_server_exceptions=False) as c:
        yield c


def _auth(world: tuple[Settings, dict[str, str]]) -> dict[str, str]:
    return {"Authorization": f"Bearer {world[1]['token']}"}


def _count(settings: Settings) -> int:
    store = Store.open(settings)
    try:
        return store.reports.count()
    finally:
        store.close()


# -- bodies past their limit ------------------------------------------------------------


def _chunks(total: int, sent: list[int]) -> Iterator[bytes]:
    chunk = b"x" * (256 * 1024)
    while sent[0] < total:
        sent[0] += len(chunk)
        yield chunk


@pytest.mark.parametrize(
    "path",
    ["/api/reports", "/taxii2/api/collections/{cid}/objects/", "/report", "/status/add", "/login"],
)
def test_a_200_mb_body_is_refused_as_soon_as_it_passes_the_limit(
    world: tuple[Settings, dict[str, str]], path: str
) -> None:
    """A real server, a chunked body with no declared length: the answer is 413 and the
    client could send only a little more than the limit before the server stopped reading."""
    settings, _ = world
    with serving(settings) as site:
        if "{cid}" in path:
            cols = httpx.get(f"{site}/taxii2/api/collections/", headers=_auth(world)).json()
            path = path.format(cid=cols["collections"][0]["id"])
        sent = [0]
        status = None
        try:
            r = httpx.post(
                site + path,
                content=_chunks(200 * MB, sent),
                headers={**_auth(world), "Content-Type": "application/json"},
                timeout=30,
            )
            status = r.status_code
        except httpx.HTTPError:
            pass  # the server closed the connection while the client was still sending
        assert sent[0] < 40 * MB, f"the server read {sent[0] // MB} MB of a 1 MB-limited body"
        if path.startswith(("/api/", "/taxii2/")):  # routes that read the body: 413
            assert status in (413, None), status
        else:  # a form refused before its body is read (CSRF) is refused all the same
            assert status is None or 400 <= status < 500, status
    assert _count(settings) == 0


def test_a_declared_length_over_the_limit_is_refused_unread(client: TestClient) -> None:
    too_big = b"{" + b" " * (2 * MB) + b"}"
    r = client.post("/api/reports", content=too_big, headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"
    form = client.post("/login", content=too_big)
    assert form.status_code == 413


# -- malformed JSON ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ("[" * 100_000, None),
        (json.dumps(report(reporter={"x": json.loads("[" * 40 + "]" * 40)})), "reporter.x"),
        (
            json.dumps(report(payments=[{"kind": "paid", "amount": 1}])).replace(
                '"amount": 1', '"amount": 1e400'
            ),
            "payments.0.amount",
        ),
        (
            json.dumps(report(payments=[{"kind": "paid", "amount": 1}])).replace(
                '"amount": 1', '"amount": NaN'
            ),
            "payments.0.amount",
        ),
        (
            json.dumps(report(payments=[{"kind": "paid", "amount": 1}])).replace(
                '"amount": 1', '"amount": ' + "9" * 400
            ),
            "payments.0.amount",
        ),
        ("\xff\xfe not utf-8", None),
        ("{not json", None),
    ],
)
def test_malformed_json_is_a_422_naming_the_field(
    world: tuple[Settings, dict[str, str]], client: TestClient, body: str, field: str | None
) -> None:
    data = body.encode("latin-1") if body.startswith("\xff") else body.encode()
    r = client.post("/api/reports", content=data, headers=_auth(world))
    assert r.status_code == 422, r.text
    where = r.json()["error"].get("field")
    assert (where is None) if field is None else (where or "").startswith(field), r.json()
    assert _count(world[0]) == 0


def test_an_import_line_nested_too_deep_names_its_line(tmp_path: Any) -> None:
    from typer.testing import CliRunner

    from ringtrace.cli import app

    data = tmp_path / "data"
    runner = CliRunner()
    assert runner.invoke(app, ["--data-dir", str(data), "init"]).exit_code == 0
    file = tmp_path / "deep.jsonl"
    file.write_text(json.dumps(report()) + "\n" + "[" * 100_000 + "\n")
    res = runner.invoke(app, ["--data-dir", str(data), "import", str(file)])
    assert res.exit_code == 2 and "line 2" in res.output and "nested" in res.output, res.output


# -- TAXII envelopes ----------------------------------------------------------------------


def test_malformed_taxii_input_answers_4xx(
    world: tuple[Settings, dict[str, str]], client: TestClient
) -> None:
    h = _auth(world)
    cid = client.get("/taxii2/api/collections/", headers=h).json()["collections"][0]["id"]
    objects = f"/taxii2/api/collections/{cid}/objects/"
    taxii = {**h, "Content-Type": "application/taxii+json;version=2.1"}
    for body, status in [
        (b"not json at all", 422),
        (b"[1, 2, 3]", 400),
        (b'{"objects": "a string"}', 400),
        (b'{"objects": [1, 2]}', 400),
        (b"[" * 50_000, 422),
    ]:
        r = client.post(objects, content=body, headers=taxii)
        assert r.status_code == status, (body[:40], r.status_code, r.text[:200])
    # An object without what its type needs is skipped, never a 500.
    r = client.post(objects, content=b'{"objects": [{"type": "indicator"}]}', headers=taxii)
    assert r.status_code == 202 and r.json()["success_count"] == 0
    for after in ("yesterday", "2024-13-45", "0" * 200):
        r = client.get(objects, params={"added_after": after}, headers=h)
        assert r.status_code == 400, (after, r.status_code)
    assert client.get(objects, params={"added_after": "2024-01-01T00:00:00Z"}, headers=h).is_success


# -- who the client is --------------------------------------------------------------------


def _request(peer: str, forwarded: str | None) -> Request:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    return Request({"type": "http", "client": (peer, 1234), "headers": headers})


def test_x_forwarded_for_is_believed_only_from_a_trusted_proxy() -> None:
    nobody = ClientAddress([])
    assert nobody(_request("203.0.113.9", "198.51.100.1")) == "203.0.113.9"
    proxies = ClientAddress(["10.0.0.0/8"])
    assert proxies(_request("203.0.113.9", "198.51.100.1")) == "203.0.113.9"  # not a proxy
    assert proxies(_request("10.0.0.2", "198.51.100.1")) == "198.51.100.1"
    # The client writes what it likes on the left; the nearest untrusted hop is the client.
    assert proxies(_request("10.0.0.2", "1.2.3.4, 198.51.100.1, 10.0.0.3")) == "198.51.100.1"
    assert proxies(_request("10.0.0.2", None)) == "10.0.0.2"


def test_serve_gives_uvicorn_the_same_trusted_proxies(sqlite_settings: Settings) -> None:
    from ringtrace.cli import proxy_options

    assert proxy_options(sqlite_settings) == {"proxy_headers": False}
    behind = sqlite_settings.model_copy(update={"trusted_proxies": "10.0.0.1, 10.1.0.0/16"})
    assert proxy_options(behind) == {
        "proxy_headers": True,
        "forwarded_allow_ips": ["10.0.0.1", "10.1.0.0/16"],
    }


def _csrf(client: TestClient) -> str:
    page = client.get("/")
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found
    return found.group(1)


def test_rotating_x_forwarded_for_does_not_escape_the_post_limit(
    world: tuple[Settings, dict[str, str]],
) -> None:
    settings, _ = world
    with serving(settings) as site, httpx.Client(base_url=site) as web:
        page = web.get("/")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf
        codes = []
        for n in range(PostLimiter().limit + 2):
            r = web.post(
                "/report",
                data={"csrf": csrf.group(1), "narrative": "n"},
                headers={"X-Forwarded-For": f"198.51.100.{n}"},
            )
            codes.append(r.status_code)
        assert codes[-1] == 429, codes


def _login(client: TestClient, user: str, password: str, code: str = "") -> int:
    r = client.post(
        "/login",
        data={"username": user, "password": password, "code": code, "next": "/console/"},
        follow_redirects=False,
    )
    return r.status_code


def test_guessing_slows_the_guesser_not_the_real_user(
    world: tuple[Settings, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, meta = world
    app = create_app(settings)
    # The limits storage's wall clock, stopped and moved on by hand: no test depends on its
    # own speed (the spraying below takes seconds of hashing; the waits it causes must not
    # run out meanwhile).
    start, now = time.time(), [0.0]
    monkeypatch.setattr(time, "time", lambda: start + now[0])
    app.state.login_throttle = LoginThrottle()
    with (
        TestClient(app, client=("203.0.113.66", 1)) as attacker,
        TestClient(app, client=("198.51.100.7", 1)) as user,
    ):
        # The real user logged in earlier from this browser: it holds a device cookie.
        assert _login(user, "writer", PASSWORD) == 303
        user.post("/logout")
        # One address guessing: after a few failures it has to wait, and waits longer.
        codes = [_login(attacker, "writer", f"guess-{n}") for n in range(8)]
        assert codes[:5] == [401] * 5 and 429 in codes[5:], codes
        now[0] += 1  # the first waits are short: one more try is allowed, and fails
        assert _login(attacker, "writer", "guess-again") == 401
        assert _login(attacker, "writer", PASSWORD) == 429  # now it waits longer
        now[0] += 3600  # an hour later the window has passed
        # Spraying from many addresses (the pair and source limits never trip).
        for n in range(30):
            with TestClient(app, client=(f"192.0.2.{n}", 1)) as bot:
                _login(bot, "writer", f"spray-{n}")
                _login(bot, "with-code", f"spray-{n}")
        # The real user, from the browser it used before, still gets in.
        assert _login(user, "writer", PASSWORD) == 303
        # A new browser with the password alone waits; with the second factor it gets in.
        with TestClient(app, client=("198.51.100.8", 1)) as fresh:
            assert _login(fresh, "with-code", PASSWORD) == 429
            code = pyotp.TOTP(meta["totp"]).now()
            assert _login(fresh, "with-code", PASSWORD, code) == 303


# -- fuzzing the routes the OpenAPI schema leaves out (TAXII, the forms) -----------------

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.sampled_from(["type", "id", "objects", "spec_version", "value",
                                       "pattern", "created", "x"]) | st.text(max_size=8),
                      inner, max_size=5),
    max_leaves=25,
)  # fmt: skip
_text = st.text(max_size=300) | st.sampled_from(["", "0", "-1", "1e400", "../../etc", "%00"])


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(body=_json | st.binary(max_size=500), after=_text, limit=_text, nxt=_text)
def test_taxii_never_answers_5xx(
    hostile_client: tuple[TestClient, dict[str, str], str],
    body: Any,
    after: str,
    limit: str,
    nxt: str,
) -> None:
    client, h, objects = hostile_client
    data = body if isinstance(body, bytes) else json.dumps(body, allow_nan=True).encode()
    posted = client.post(objects, content=data, headers=h)
    assert posted.status_code < 500, (data[:80], posted.text[:200])
    got = client.get(objects, params={"added_after": after, "limit": limit, "next": nxt},
                     headers=h)  # fmt: skip
    assert got.status_code < 500, (after, limit, nxt, got.text[:200])


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    route=st.sampled_from(["/report", "/status", "/status/add", "/status/withdraw", "/login"]),
    fields=st.dictionaries(
        st.sampled_from(["narrative", "reference", "code", "note", "confirm", "lang",
                         "age_band", "country", "identifiers", "demanded", "paid",
                         "currency", "method", "account", "username", "password", "next",
                         "hashes", "app_link", "platform"]),
        _text, max_size=8,
    ),
)  # fmt: skip
def test_public_and_login_forms_never_answer_5xx(
    hostile_client: tuple[TestClient, dict[str, str], str], route: str, fields: dict[str, str]
) -> None:
    client, _, _ = hostile_client
    page = client.get("/")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf
    r = client.post(route, data={**fields, "csrf": csrf.group(1)}, follow_redirects=False)
    assert r.status_code < 500, (route, fields, r.text[:200])


@pytest.fixture(scope="module")
def hostile_client(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[TestClient, dict[str, str], str]]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("fuzz"), home_agency="test-agency", max_report_bytes=MB
    )
    store = Store.open(settings)
    store.migrate()
    store.accounts.add_user("fuzzer", PASSWORD, "test-agency", "admin")
    token = store.accounts.create_token("fuzzer", "fuzzing")
    store.close()
    app = create_app(settings)
    app.state.post_limiter = PostLimiter(limit=10**9)
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as c:
        h = {"Authorization": f"Bearer {token}"}
        cid = c.get("/taxii2/api/collections/", headers=h).json()["collections"][0]["id"]
        yield c, h, f"/taxii2/api/collections/{cid}/objects/"
