"""The thread runner: jobs run on one worker thread of this process (each APK analysis in
its own limited child process), so a submission is answered at once. Queued APK work lives
in the database, so a restart loses nothing: the thread picks up what is queued, and what
a crash left running, when it starts, and looks again every ``poll_s``. A batch link
submitted here is lost if the process ends first (``ringtrace link --queue`` goes through
Redis for that reason)."""

from __future__ import annotations

import logging
import threading
from collections import deque
from typing import Any

from ringtrace.jobs import APK_ANALYSES, LINK_BATCH, check_kind
from ringtrace.services import apk_jobs
from ringtrace.store import Store

log = logging.getLogger(__name__)


class ThreadRunner:
    def __init__(self, store: Store, poll_s: float = 30.0) -> None:
        self.store = store
        self.poll_s = poll_s
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._batches: deque[str] = deque()  # engines of submitted batch links, in order
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="jobs", daemon=True)
        self._thread.start()
        self._wake.set()  # what is already queued

    def submit(self, kind: str, **args: Any) -> str | None:
        check_kind(kind, args)
        if kind == LINK_BATCH:
            self._batches.append(str(args["engine"]))
        self._wake.set()  # APK analyses: the thread looks at the queue in the database
        return None

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.poll_s)
            self._wake.clear()
            if self._stop.is_set():
                break
            while self._batches:
                self._job(LINK_BATCH, self._batches.popleft())
            self._job(APK_ANALYSES, None)

    def _job(self, kind: str, engine: str | None) -> None:
        try:
            if kind == LINK_BATCH:
                from ringtrace import batch_link

                run = batch_link.run(self.store, str(engine), None, write=True)
                log.info("batch link done", extra={"event": "job", "job": kind,
                                                   "count": run.reports})  # fmt: skip
                return
            counts = apk_jobs.run(self.store)
            if any(counts.values()):
                extra = {"event": "job", "job": kind, "count": sum(counts.values())}
                log.info("apk analyses: %s", counts, extra=extra)
        except Exception:  # keep the thread alive; APK work stays queued for the next look
            log.exception("%s job failed", kind)
