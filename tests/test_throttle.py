"""Rate limits in the `limits` library's storage (web/throttle.py): with Redis, two app
instances (two server processes) count the same login failures and public posts; without
it, one process still limits on its own. Redis is the real one (127.0.0.1:6379, database 15,
flushed)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from limits.storage import MemoryStorage, RedisStorage

from ringtrace.errors import ConfigurationError
from ringtrace.settings import Settings
from ringtrace.store import Store
from ringtrace.web.app import create_app
from ringtrace.web.throttle import LoginThrottle, PostLimiter, rate_limit_storage
from tests.conftest import redis_at

REDIS_URL = os.environ.get("RINGTRACE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
PASSWORD = "throttle-unit-password"
ATTACKER = ("203.0.113.66", 1)


@pytest.fixture
def redis_url() -> str:
    return redis_at(REDIS_URL, flush=True)


def _settings(tmp_path: Path, rate_limit_url: str | None) -> Settings:
    settings = Settings(data_dir=tmp_path / "data", rate_limit_url=rate_limit_url)
    store = Store.open(settings)
    store.migrate()
    store.accounts.add_user("writer", PASSWORD, "local", "analyst")
    store.close()
    return settings


def _login(client: TestClient, password: str) -> int:
    r = client.post("/login", data={"username": "writer", "password": password, "next": "/"},
                    follow_redirects=False)  # fmt: skip
    return r.status_code


def _post(client: TestClient) -> int:
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/").text)
    assert csrf
    return client.post("/report", data={"csrf": csrf.group(1), "narrative": "n"}).status_code


def test_the_storage_follows_the_settings(tmp_path: Path, redis_url: str) -> None:
    assert isinstance(rate_limit_storage(Settings(data_dir=tmp_path)), MemoryStorage)
    # The Redis the jobs use, unless the limits are given their own.
    assert isinstance(rate_limit_storage(Settings(data_dir=tmp_path, redis_url=redis_url)),
                      RedisStorage)  # fmt: skip
    assert isinstance(rate_limit_storage(Settings(data_dir=tmp_path, rate_limit_url=redis_url)),
                      RedisStorage)  # fmt: skip
    with pytest.raises(ConfigurationError, match="RINGTRACE_RATE_LIMIT_URL"):
        rate_limit_storage(Settings(data_dir=tmp_path, rate_limit_url="nosuch://x"))


def test_two_processes_share_the_login_throttle_through_redis(
    tmp_path: Path, redis_url: str
) -> None:
    settings = _settings(tmp_path, redis_url)
    one, two = create_app(settings), create_app(settings)  # two server processes' apps
    with (
        TestClient(one, base_url="https://testserver", client=ATTACKER) as first,
        TestClient(two, base_url="https://testserver", client=ATTACKER) as second,
    ):
        assert [_login(first, f"guess-{n}") for n in range(5)] == [401] * 5
        # The other process knows: the right password now waits too.
        assert _login(second, PASSWORD) == 429


def test_two_processes_share_the_post_limit_through_redis(tmp_path: Path, redis_url: str) -> None:
    settings = _settings(tmp_path, redis_url)
    apps = [create_app(settings), create_app(settings)]
    for app in apps:  # the app's own storage, a smaller limit
        app.state.post_limiter = PostLimiter(limit=2, storage=app.state.rate_limits)
    with (
        TestClient(apps[0], base_url="https://testserver") as first,
        TestClient(apps[1], base_url="https://testserver") as second,
    ):
        assert [_post(first), _post(second), _post(first), _post(second)] == [200, 200, 429, 429]


def test_without_redis_one_process_still_limits(tmp_path: Path) -> None:
    settings = _settings(tmp_path, None)
    one, two = create_app(settings), create_app(settings)
    assert isinstance(one.state.rate_limits, MemoryStorage)
    with (
        TestClient(one, base_url="https://testserver", client=ATTACKER) as first,
        TestClient(two, base_url="https://testserver", client=ATTACKER) as second,
    ):
        assert [_login(first, f"guess-{n}") for n in range(6)] == [401] * 5 + [429]
        assert _login(second, PASSWORD) == 303  # its own memory: the counts are per process


def test_doubling_waits_and_devices_are_shared(redis_url: str) -> None:
    """Two throttles (two processes) on one Redis: the waits double across both, and a
    device that logged in through one is trusted by the other."""
    a = LoginThrottle(RedisStorage(redis_url), user_limit=3)
    b = LoginThrottle(RedisStorage(redis_url), user_limit=3)
    device = a.succeeded("victim-helper", "198.51.100.7")
    for n in range(3):  # guesses at one user from three addresses
        (a if n % 2 else b).failed("victim-helper", f"192.0.2.{n}")
    assert 0 < b.wait_s("victim-helper", "192.0.2.99") <= 1
    a.failed("victim-helper", "192.0.2.50")  # a fourth while allowed: the wait doubles
    assert 1 < b.wait_s("victim-helper", "192.0.2.99") <= 2
    assert b.wait_s("victim-helper", "192.0.2.99", device=device) == 0  # the known browser
    assert b.wait_s("victim-helper", "192.0.2.99", second_factor=True) == 0


def test_redis_away_answers_503_not_unlimited(tmp_path: Path) -> None:
    settings = _settings(tmp_path, "redis://127.0.0.1:1/0")  # nothing listens there
    with TestClient(create_app(settings), base_url="https://testserver",
                    raise_server_exceptions=False) as client:  # fmt: skip
        assert _login(client, PASSWORD) == 503
        assert _post(client) == 503
