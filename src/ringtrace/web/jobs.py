"""Background work for the web app: APK analyses run on a worker thread (each analysis in
its own limited child process), so a submission is answered at once. Queued work lives in
the database, so a restart loses nothing: the worker picks up what is queued, and what a
crash left running, when it starts. With RINGTRACE_REDIS_URL set, the same work goes
through Redis to `ringtrace worker` processes instead (ringtrace/tasks.py)."""

from __future__ import annotations

import logging
import threading

from ringtrace.services import apk_jobs
from ringtrace.store import Store

log = logging.getLogger(__name__)


class BackgroundAnalyses:
    def __init__(self, store: Store, poll_s: float = 30.0) -> None:
        self.store = store
        self.poll_s = poll_s
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="apk-analyses", daemon=True)
        self._thread.start()
        self.kick()

    def kick(self) -> None:
        self._wake.set()

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
            try:
                counts = apk_jobs.run(self.store)
                if any(counts.values()):
                    log.info("apk analyses: %s", counts)
            except Exception:  # keep the worker alive; the job stays queued for the next try
                log.exception("apk analysis worker failed; will retry")
