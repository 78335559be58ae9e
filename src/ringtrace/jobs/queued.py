"""The Huey runner: a server process hands jobs to Redis, and ``ringtrace worker``
processes run them (the tasks are defined in ringtrace/tasks.py)."""

from __future__ import annotations

import logging
from typing import Any

from ringtrace.jobs import APK_ANALYSES, check_kind
from ringtrace.tasks import JobQueue

log = logging.getLogger(__name__)


class HueyRunner:
    def __init__(self, queue: JobQueue) -> None:
        self.queue = queue

    def start(self) -> None:
        pass  # the workers are other processes

    def stop(self) -> None:
        pass

    def submit(self, kind: str, **args: Any) -> str | None:
        check_kind(kind, args)
        if kind == APK_ANALYSES:
            try:
                return str(self.queue.apk_analyses().id)
            except Exception as e:  # Redis away: the row is queued, the next sweep runs it
                log.warning("could not enqueue a job (%s); the sweep will pick it up",
                            type(e).__name__)  # fmt: skip
                return None
        return str(self.queue.link_batch(args["engine"]).id)  # the caller wants to know
