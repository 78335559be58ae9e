"""Extraction without the cycle collector running in the middle of it.

Extracting a long text allocates tens of thousands of small objects that live until the
extraction ends (candidates, occurrences, indicators, their lists) and hold no reference
cycles: reference counting frees every one of them. To Python's cycle collector they look
like survivors, and enough survivors start a full collection, which walks every object of
the process (loaded data, caches, a server's state) and finds nothing to free. On
``benchmarks/extract.py`` that was about a tenth of extraction's time.

:func:`paused` keeps the collector off while at least one extraction runs (threads share
it: the first to enter turns it off, the last to leave turns it back on, and only if it was
on). Memory is unaffected: what is not a cycle is freed by reference counting as before,
and the collector runs as usual once the extraction returns.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_running = 0  # extractions inside paused()
_was_enabled = False  # whether the first of them found the collector on


@contextmanager
def paused() -> Iterator[None]:
    """Run the body with the cycle collector off (see the module's docstring)."""
    global _running, _was_enabled
    with _lock:
        if _running == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _running += 1
    try:
        yield
    finally:
        with _lock:
            _running -= 1
            if _running == 0 and _was_enabled:
                gc.enable()
