"""Shared fixtures: a fresh store per test on SQLite and, for storage and linking tests,
on the PostgreSQL server (each test creates and drops its own database)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest
from sqlalchemy.engine import make_url

from ringtrace.settings import Settings
from ringtrace.store import Store

PG_URL = os.environ.get(
    "RINGTRACE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
# Reference data copied into the repository, each folder with its origin and licence.
DATA = Path(__file__).resolve().parent / "data"
OUTPUT = Path(
    os.environ.get("RINGTRACE_TEST_OUTPUT", Path(__file__).resolve().parents[1] / "test-output")
)


def _pg_admin_conninfo() -> str:
    url = make_url(PG_URL)
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_available() -> str:
    import psycopg

    try:
        with psycopg.connect(_pg_admin_conninfo(), connect_timeout=3):
            pass
    except psycopg.OperationalError as e:
        service_missing("PostgreSQL", PG_URL, e, hint=" (set RINGTRACE_TEST_PG_URL)")
    return PG_URL


def service_missing(service: str, url: str, error: Exception, hint: str = "") -> NoReturn:
    """A service a test needs is not reachable: a failure in CI, where it must be there, and
    a skip on a developer's machine."""
    if os.environ.get("CI"):
        pytest.fail(f"{service} is required in CI but not reachable at {url}: {error}")
    pytest.skip(f"{service} not reachable at {url}{hint}")


def redis_at(url: str, *, flush: bool) -> str:
    """The Redis database at ``url`` (emptied first when ``flush``), or a skip/failure."""
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=2)
        client.flushdb() if flush else client.ping()
    except redis.RedisError as e:
        service_missing("Redis", url, e)
    return url


@pytest.fixture
def pg_database(pg_available: str) -> Iterator[str]:
    """A new, empty PostgreSQL database for one test, dropped afterwards."""
    import psycopg

    name = f"ringtrace_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_pg_admin_conninfo(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(pg_available).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(_pg_admin_conninfo(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings for a fresh database on each backend."""
    if request.param == "sqlite":
        return Settings(data_dir=tmp_path / "data")
    url = request.getfixturevalue("pg_database")
    return Settings(data_dir=tmp_path / "data", database_url=url)


@pytest.fixture
def store(backend_settings: Settings) -> Iterator[Store]:
    s = Store.open(backend_settings)
    s.migrate()
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def sqlite_store(sqlite_settings: Settings) -> Iterator[Store]:
    s = Store.open(sqlite_settings)
    s.migrate()
    try:
        yield s
    finally:
        s.close()


@pytest.fixture(scope="session")
def apks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The test APKs, assembled from source once per run (tests/apk_build.py); never run."""
    from tests.apk_build import DEBIAN_PACKAGES, build_all, missing_tools

    missing = missing_tools()
    if missing:
        pytest.fail(
            f"missing {', '.join(missing)}: install the Debian packages "
            f"{' '.join(DEBIAN_PACKAGES)} (scripts/test does)"
        )
    return build_all(tmp_path_factory.mktemp("apks"))
