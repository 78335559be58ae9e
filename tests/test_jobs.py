"""Background jobs through Huey and the real Redis (127.0.0.1:6379, database 15, flushed):
the server side enqueues, a `ringtrace worker` process runs the job, a failing job is
retried, and a job whose message was lost is picked up by the sweep."""

from __future__ import annotations

import base64
import io
import os
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from ringtrace.intake.received import receive
from ringtrace.jobs import APK_ANALYSES, LINK_BATCH, JobRunner, runner_for
from ringtrace.jobs.queued import HueyRunner
from ringtrace.jobs.threads import ThreadRunner
from ringtrace.services import apk_jobs
from ringtrace.services.intake import ingest
from ringtrace.settings import Settings
from ringtrace.store import Store
from ringtrace.tasks import RETRIES, JobQueue
from tests.conftest import redis_at
from tests.factories import line, report

REDIS_URL = os.environ.get("RINGTRACE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
RINGTRACE = str(Path(sys.executable).parent / "ringtrace")


@pytest.fixture
def redis_url() -> str:
    return redis_at(REDIS_URL, flush=True)


@pytest.fixture
def queued(tmp_path: Path, redis_url: str) -> Iterator[tuple[Settings, Store, JobQueue]]:
    settings = Settings(data_dir=tmp_path / "data", redis_url=redis_url)
    store = Store.open(settings)
    store.migrate()
    _apk_report(store)
    try:
        yield settings, store, JobQueue(settings)
    finally:
        store.close()


def _apk_report(store: Store) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:  # named like an APK, no manifest: analysis fails
        z.writestr("classes.dex", b"dex\n035\x00" + bytes(64))
    apk = base64.b64encode(buf.getvalue()).decode()
    doc = report(attachments=[{"filename": "private.apk", "content_base64": apk}])
    ingest(store, receive(line(doc)))


def _statuses(store: Store) -> list[str]:
    rid = store.reports.page(limit=1)[0].id
    return [a["status"] for a in store.apk.analyses(rid)]


def test_a_worker_process_runs_what_the_server_enqueued(
    queued: tuple[Settings, Store, JobQueue],
) -> None:
    settings, store, queue = queued
    assert _statuses(store) == ["queued"]
    HueyRunner(queue).submit(APK_ANALYSES)  # what a server process does after storing a report
    assert queue.huey.pending_count() == 1
    env = {**os.environ, "RINGTRACE_DATA_DIR": str(settings.data_dir),
           "RINGTRACE_REDIS_URL": settings.redis_url or ""}  # fmt: skip
    worker = subprocess.Popen([RINGTRACE, "worker", "--threads", "1"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while _statuses(store) != ["failed"] and time.monotonic() < deadline:
            time.sleep(0.5)
        assert _statuses(store) == ["failed"]  # finished: not an APK, as planted
        assert queue.huey.pending_count() == 0
    finally:
        worker.terminate()
        out = worker.communicate(timeout=30)[0].decode()
    assert '"job": "apk.analyses"' in out  # the worker's JSON log line


def test_a_job_that_raises_is_retried_later(queued: tuple[Settings, Store, JobQueue]) -> None:
    _, store, queue = queued

    class Down:
        def run_apk_analyses(self) -> dict[str, int]:
            raise ConnectionError("database away")

    queue._stores[os.getpid()] = Down()  # type: ignore[assignment]
    queue.apk_analyses()
    task = queue.huey.dequeue()
    queue.huey.execute(task)  # raises inside: Huey schedules the retry
    assert queue.huey.scheduled_count() == 1
    retry = queue.huey.scheduled()[0]
    assert retry.retries == RETRIES - 1
    assert retry.eta is not None  # later, not at once
    queue._stores[os.getpid()] = store
    queue.huey.execute(retry, timestamp=retry.eta)  # its time has come; the database is back
    assert _statuses(store) == ["failed"]


def test_the_sweep_runs_what_no_message_announced(
    queued: tuple[Settings, Store, JobQueue],
) -> None:
    """The report's job row was committed but its message never reached Redis (a crash
    between the two, or Redis away): the periodic sweep enqueues it."""
    _, store, queue = queued
    queue._stores[os.getpid()] = store
    assert queue.huey.pending_count() == 0
    queue.huey.execute(queue.sweep.s())  # what the scheduler runs every minute
    assert queue.huey.pending_count() == 1
    queue.huey.execute(queue.huey.dequeue())
    assert _statuses(store) == ["failed"]
    queue.huey.execute(queue.sweep.s())  # nothing left: nothing enqueued
    assert queue.huey.pending_count() == 0


@pytest.mark.postgres
def test_a_running_job_is_not_run_twice_but_a_dead_workers_is(
    tmp_path: Path, pg_database: str
) -> None:
    """Two processes (two stores) on one PostgreSQL database: while one runs a job, the
    other skips it; a job left "running" by a worker that died is run again."""
    import threading

    from ringtrace.apk.analysis import ApkError

    settings = Settings(data_dir=tmp_path / "data", database_url=pg_database)
    first, second = Store.open(settings), Store.open(settings)
    first.migrate()
    try:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("classes.dex", b"dex\n035\x00")
        apk = base64.b64encode(buf.getvalue()).decode()
        ingest(
            first, receive(line(report(attachments=[{"filename": "a.apk", "content_base64": apk}])))
        )
        started, release = threading.Event(), threading.Event()
        runs: list[str] = []

        def slow(_: bytes) -> dict[str, object]:
            runs.append(threading.current_thread().name)
            started.set()
            release.wait(10)
            raise ApkError("not_apk", "planted")

        t = threading.Thread(
            target=apk_jobs.run, args=(first,), kwargs={"analyze": slow}, name="one"
        )
        t.start()
        assert started.wait(10)
        assert apk_jobs.run(second, analyze=slow) == {"done": 0, "failed": 0, "retry": 0}
        release.set()
        t.join(10)
        assert runs == ["one"]
        assert _statuses(first) == ["failed"]

        # A worker that died mid-job: its row says running, and nobody holds the job's lock.
        import sqlalchemy as sa

        with first.engine.begin() as conn:
            conn.execute(sa.text("UPDATE apk_analyses SET status = 'running'"))
        release.set()
        counts = apk_jobs.run(second, analyze=slow)
        assert counts["failed"] == 1 and _statuses(second) == ["failed"]
    finally:
        first.close()
        second.close()


def test_the_batch_linker_runs_as_a_job_with_a_result(tmp_path: Path, redis_url: str) -> None:
    """`ringtrace link --queue` enqueues the batch linker; a worker runs it and the result
    (the run's summary) is what `ringtrace job ID` shows."""
    import json

    settings = Settings(data_dir=tmp_path / "data", redis_url=redis_url)
    store = Store.open(settings)
    store.migrate()
    for i in range(4):  # two pairs sharing a number each
        ingest(store, receive(line(report(narrative=f"WhatsApp +8526{150 + i // 2:03d}4567"))))
    before = store.clusters.ids()
    env = {
        **os.environ,
        "RINGTRACE_DATA_DIR": str(settings.data_dir),
        "RINGTRACE_REDIS_URL": redis_url,
    }
    job_id = subprocess.run([RINGTRACE, "link", "--queue"], env=env, check=True,
                            capture_output=True, text=True).stdout.strip()  # fmt: skip
    pending = subprocess.run([RINGTRACE, "job", job_id], env=env, capture_output=True, text=True)
    assert pending.returncode == 3 and json.loads(pending.stdout) == {"status": "pending"}
    queue = JobQueue(settings)
    queue._stores[os.getpid()] = store
    queue.huey.execute(queue.huey.dequeue())  # what a worker does
    done = subprocess.run([RINGTRACE, "job", job_id], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout)["result"]
    assert result["engine"] == "duckdb" and result["reports"] == 4 and result["clusters"] == 2
    assert store.clusters.ids() == before  # the batch linker agrees with the online one
    store.close()


# -- one protocol, two runners ----------------------------------------------------------------


def _until(check: object, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return True
        time.sleep(0.2)
    return False


def test_the_settings_choose_the_runner(tmp_path: Path, redis_url: str) -> None:
    from ringtrace.web.app import create_app

    alone = Settings(data_dir=tmp_path / "alone")
    shared = Settings(data_dir=tmp_path / "shared", redis_url=redis_url)
    for settings, kind in ((alone, ThreadRunner), (shared, HueyRunner)):
        store = Store.open(settings)
        store.migrate()
        runner = runner_for(settings, store)
        assert isinstance(runner, kind) and isinstance(runner, JobRunner)
        app = create_app(settings)
        assert isinstance(app.state.jobs, kind)  # what the routes call
        app.state.store.close()
        with pytest.raises(ValueError, match="no job kind"):
            runner.submit("apk.analyse")  # a typo is a bug, not a silent no-op
        store.close()


def test_the_thread_runner_runs_what_is_submitted(tmp_path: Path) -> None:
    """The runner's own look every ``poll_s`` is an hour away: only the submission makes it
    run the APK analysis now, and the batch linker after it."""
    store = Store.open(Settings(data_dir=tmp_path / "data"))
    store.migrate()
    runner = ThreadRunner(store, poll_s=3600)
    runner.start()
    try:
        assert _until(lambda: not runner._wake.is_set())  # its first look, at nothing
        time.sleep(0.5)
        _apk_report(store)
        time.sleep(1)
        assert _statuses(store) == ["queued"]  # nobody looked
        assert runner.submit(APK_ANALYSES) is None  # no result kept on a thread
        assert _until(lambda: _statuses(store) == ["failed"])  # finished: not an APK
        runner.submit(LINK_BATCH, engine="duckdb")
        assert _until(lambda: any(e.action == "clusters.batch_link"
                                  for e in store.audit.entries()))  # fmt: skip
    finally:
        runner.stop()
        store.close()
