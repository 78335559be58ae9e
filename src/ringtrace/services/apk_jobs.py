"""Running the queued APK analyses, each in a sandboxed child, and linking what they find."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import (
    text,
)

from ringtrace.domain.models import ReportRef
from ringtrace.errors import (
    RingtraceError,
)
from ringtrace.store import analyst, components
from ringtrace.store import apk as apk_store
from ringtrace.store import audit_log as audit
from ringtrace.store.database import Store
from ringtrace.store.rows import (
    apply_policy,
    report_subject,
)

_PG_JOB_LOCKS = 0x524A  # namespace of the per-job advisory locks (key 2: the job id)


def run(
    store: Store,
    *,
    progress: Callable[[int, int], None] | None = None,
    analyze: Callable[[bytes], dict[str, Any]] | None = None,
) -> dict[str, int]:
    """Run every queued analysis, each in a limited child process, and link the
    reports through what was found (audited). Returns counts by outcome."""
    from ringtrace.apk.analysis import ApkError
    from ringtrace.apk.sandbox import analyze_isolated

    run = analyze or analyze_isolated
    todo = store.apk.pending()
    counts = {"done": 0, "failed": 0, "retry": 0}
    for k, job in enumerate(todo, start=1):
        with _job_lease(store, job["id"]) as mine:
            if not mine:
                continue  # another worker is running it right now
            with store.write() as conn:
                if not apk_store.claim(conn, job["id"]):
                    continue
            try:
                result = run(store.vault.get(job["sha256"]))
                error = None
            except ApkError as e:
                result, error = None, (e.code, e.message)
            except RingtraceError as e:  # the evidence is gone (withdrawn) or damaged
                result, error = None, (e.code, e.message)
            # A crash or a timeout may be the machine's, not the file's: try again, up
            # to a limit.
            retry = (
                error is not None
                and error[0] in ("crashed", "timeout")
                and job["attempts"] + 1 < apk_store.MAX_ATTEMPTS
            )
            refs = store.reports.refs([job["report_id"]])
            _finish_apk(store, job, refs, result, error, retry)
        counts["done" if result is not None else ("retry" if retry else "failed")] += 1
        if progress:
            progress(k, len(todo))
    return counts


@contextmanager
def _job_lease(store: Store, job_id: int) -> Iterator[bool]:
    """Whether this process may run job ``job_id`` now. On PostgreSQL a session advisory
    lock held while it runs: a "running" row whose lock is free was left by a dead
    worker (its connection closed, the lock went with it) and may be run again; one
    whose lock is held is being run. Embedded SQLite has one process."""
    if store.dialect != "postgresql":
        yield True
        return
    with store.read() as conn:
        got = bool(
            conn.execute(
                text("SELECT pg_try_advisory_lock(:ns, :id)"), {"ns": _PG_JOB_LOCKS, "id": job_id}
            ).scalar()
        )
        conn.commit()
        try:
            yield got
        finally:
            if got:
                conn.execute(
                    text("SELECT pg_advisory_unlock(:ns, :id)"), {"ns": _PG_JOB_LOCKS, "id": job_id}
                )
                conn.commit()


def _finish_apk(
    store: Store,
    job: dict[str, Any],
    refs: dict[int, ReportRef],
    result: dict[str, Any] | None,
    error: tuple[str, str] | None,
    retry: bool,
) -> None:
    with store.write() as conn:
        apk_store.finish(conn, job["id"], result=result, error=error, retry=retry)
        added = 0
        if result is not None:
            found = apk_store.new_keys(
                conn, job["report_id"], apk_store.done_keys(conn, job["report_id"])
            )
            apply_policy(found, analyst.cut_keys(conn))
            store.reports.insert_indicators(conn, job["report_id"], found)
            added = len(found)
            if found:
                components.recompute_around(conn, {job["report_id"]}, keys=[i.key for i in found])
        audit.append(
            conn,
            store.actor,
            "apk.analyze",
            report_subject(refs[job["report_id"]]),
            {
                "analysis": job["id"],
                "sha256": job["sha256"],
                "status": "done" if result is not None else ("retry" if retry else "failed"),
                "error": error[0] if error else None,
                "keys_added": added,
                "risk": result["risk"]["level"] if result else None,
            },
        )
