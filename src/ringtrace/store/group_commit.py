"""Group commit: many threads hand their writes to one writer thread per process, which
runs whatever has queued up in one transaction.

Every report write takes the linker's lock (a PostgreSQL advisory lock, SQLite's write
lock), so writes are serial however many threads a server has. With one transaction per
report, a surge queues on that lock: each report pays for its own BEGIN, lock, commit and
flush to disk. Batching the waiting reports into one transaction pays those once per batch,
and a batch grows by itself under load while a lone write is handled at once. A caller is
answered only after the commit that holds its write, so an acknowledgement still means
stored.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

MAX_BATCH = 64


class GroupCommit:
    """``submit(item)`` blocks until ``run_batch`` has committed the batch holding ``item``,
    then answers its result or raises its exception. ``run_batch(items)`` answers one result
    or exception per item, in order, or raises to fail them all."""

    def __init__(
        self, run_batch: Callable[[list[Any]], list[Any]], max_batch: int = MAX_BATCH
    ) -> None:
        self._run_batch = run_batch
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[tuple[Any, Future[Any]] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._start_lock = threading.Lock()
        self.batches = 0
        self.items = 0

    def submit(self, item: Any) -> Any:
        self._ensure_running()
        done: Future[Any] = Future()
        self._queue.put((item, done))
        return done.result()

    def stop(self) -> None:
        with self._start_lock:
            if self._thread is not None and self._pid == os.getpid() and self._thread.is_alive():
                self._queue.put(None)
                self._thread.join(timeout=30)
            self._thread = None

    def start(self) -> None:
        self._ensure_running()

    def _ensure_running(self) -> None:
        # After a fork the writer thread is gone: start one in this process.
        if self._thread is not None and self._pid == os.getpid() and self._thread.is_alive():
            return
        with self._start_lock:
            if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
                self._queue = queue.SimpleQueue()
                self._pid = os.getpid()
                self._thread = threading.Thread(target=self._loop, name="group-commit", daemon=True)
                self._thread.start()

    def _loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < self._max_batch:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    self._queue.put(None)  # stop after this batch
                    break
                batch.append(nxt)
            self._run(batch)

    def _run(self, batch: list[tuple[Any, Future[Any]]]) -> None:
        try:
            results = self._run_batch([item for item, _ in batch])
        except BaseException as e:  # the transaction failed: nothing in it was stored
            for _, done in batch:
                done.set_exception(e)
            return
        self.batches += 1
        self.items += len(batch)
        for (_, done), result in zip(batch, results, strict=True):
            if isinstance(result, BaseException):
                done.set_exception(result)
            else:
                done.set_result(result)
