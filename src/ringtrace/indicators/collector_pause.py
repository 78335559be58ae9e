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
from types import TracebackType

_lock = threading.Lock()
_running = 0  # extractions inside a pause
_was_enabled = False  # whether the first of them found the collector on


class _Paused:
    """The context manager :data:`paused` returns (a class, not ``@contextmanager``: it is
    entered for every report and text, and a generator costs several times more)."""

    __slots__ = ()

    def __enter__(self) -> None:
        global _running, _was_enabled
        with _lock:
            if _running == 0:
                _was_enabled = gc.isenabled()
                gc.disable()
            _running += 1

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        global _running
        with _lock:
            _running -= 1
            if _running == 0 and _was_enabled:
                gc.enable()


_PAUSED = _Paused()


def paused() -> _Paused:
    """``with paused(): ...`` runs the body with the cycle collector off (see the module's
    docstring)."""
    return _PAUSED
