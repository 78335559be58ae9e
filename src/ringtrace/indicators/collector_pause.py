"""Extraction of a long text without the cycle collector running in the middle of it.

Extracting a long text (a chat export, an attachment's text) allocates tens of thousands of
small objects that live until the extraction ends (candidates, occurrences, indicators,
their lists) and hold no reference cycles: reference counting frees every one of them. To
Python's cycle collector they look like survivors, and enough survivors start a full
collection, which walks every object of the process (loaded data, caches, a server's state)
and finds nothing to free. On ``benchmarks/extract.py`` that was about a tenth of
extraction's time, nearly all of it on the 1 MB document.

:func:`paused` keeps the collector off while an extraction of at least
:data:`MIN_CHARS` characters runs; shorter ones (most reports) leave it alone. Threads share
the pause: the first to enter turns the collector off, the last to leave turns it back on,
and only if it was on when the first entered. Costs, for a host that runs extractions in
threads: while long extractions overlap without a gap, the collector stays off for the
whole process, so cyclic garbage made meanwhile (by any code) waits until the last one
leaves; and a host that turns the collector off during a pause has it turned back on when
the pause ends.
"""

from __future__ import annotations

import gc
import threading
from types import TracebackType

_lock = threading.Lock()
_running = 0  # extractions inside a pause
_was_enabled = False  # whether the first of them found the collector on


# Texts shorter than this leave the collector alone (a report's narrative and messages are
# a few thousand characters; the objects they make never start a full collection).
MIN_CHARS = 20_000


class _Paused:
    """The context manager :func:`paused` returns (a class, not ``@contextmanager``: it is
    entered for every report and text, and a generator costs several times more)."""

    __slots__ = ("active",)

    def __init__(self, active: bool) -> None:
        self.active = active

    def __enter__(self) -> None:
        global _running, _was_enabled
        if not self.active:
            return
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
        if not self.active:
            return
        with _lock:
            _running -= 1
            if _running == 0 and _was_enabled:
                gc.enable()


_PAUSED, _NOT_PAUSED = _Paused(True), _Paused(False)


def paused(chars: int) -> _Paused:
    """``with paused(len(text)): ...`` runs the body with the cycle collector off when the
    text is long (see the module's docstring)."""
    return _PAUSED if chars >= MIN_CHARS else _NOT_PAUSED
