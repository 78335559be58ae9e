"""Background jobs through Huey and Redis, for servers with several processes.

Jobs: APK analyses of report evidence, and the batch linker (`ringtrace link --queue`).
The database stays the record of what must be done for an APK: a job's row (``apk_analyses``) is
written in the same transaction as its report, so a crash cannot lose it. Huey carries the
work from the server processes to ``ringtrace worker`` processes through Redis, retries a
job that raised, and runs a sweep every minute for what a lost message or a killed worker
left behind. Claiming a row is atomic, so a job sent twice runs once.

Without ``RINGTRACE_REDIS_URL`` (the embedded demo) each server process runs the same work
on a thread. Either way callers go through one protocol (ringtrace/jobs/).
"""

from __future__ import annotations

import logging
import os
from dataclasses import asdict
from typing import Any

from huey import RedisHuey, crontab
from huey.api import Huey

from ringtrace.errors import ConfigurationError
from ringtrace.services import apk_jobs
from ringtrace.settings import Settings
from ringtrace.store import Store

log = logging.getLogger(__name__)

QUEUE = "ringtrace"
RETRIES = 3
RETRY_DELAY_S = 10


class JobQueue:
    """The Huey instance and ringtrace's tasks on it, built from settings."""

    def __init__(self, settings: Settings) -> None:
        if not settings.redis_url:
            raise ConfigurationError("RINGTRACE_REDIS_URL is not set: no job queue to use")
        self.settings = settings
        # Results are kept only for tasks that return one (the batch linker's summary);
        # ``store_none=False`` keeps the APK task's None out of Redis.
        self.huey: Huey = RedisHuey(QUEUE, url=settings.redis_url, results=True, utc=True)
        self._stores: dict[int, Store] = {}

        @self.huey.task(retries=RETRIES, retry_delay=RETRY_DELAY_S, name="apk.analyses")  # type: ignore[untyped-decorator]
        def apk_analyses() -> None:
            counts = apk_jobs.run(self.store())
            extra = {"event": "job", "job": "apk.analyses", "count": sum(counts.values())}
            log.info("apk analyses: %s", counts, extra=extra)

        @self.huey.task(retries=1, retry_delay=60, name="link.batch")  # type: ignore[untyped-decorator]
        def link_batch(engine: str) -> dict[str, Any]:
            """Re-cluster every report with the batch linker (DuckDB or Spark) and write
            the result back; the summary is kept as the job's result."""
            from ringtrace import batch_link

            run = batch_link.run(self.store(), engine, None, write=True)
            log.info("batch link done", extra={"event": "job", "job": "link.batch",
                                               "count": run.reports})  # fmt: skip
            return asdict(run)

        @self.huey.periodic_task(crontab(minute="*"), name="apk.sweep")  # type: ignore[untyped-decorator]
        def sweep() -> None:
            if self.store().apk.pending():
                apk_analyses()

        self.apk_analyses: Any = apk_analyses
        self.link_batch: Any = link_batch
        self.sweep: Any = sweep

    def result(self, job_id: str) -> Any:
        """A finished job's result (kept), or None while it is queued or running."""
        return self.huey.result(job_id, preserve=True)

    def store(self) -> Store:
        """This process's store (a worker may fork; each process opens its own)."""
        pid = os.getpid()
        if pid not in self._stores:
            self._stores[pid] = Store.open(self.settings)
        return self._stores[pid]

    def run_worker(self, workers: int) -> None:
        """Consume jobs until SIGINT/SIGTERM (``ringtrace worker``)."""
        consumer = self.huey.create_consumer(workers=workers, worker_type="thread")
        consumer.run()
