"""Scanning patterns found through a cheaper gate: the same matches, fewer positions tried.

Python's regex engine skips quickly only over positions that cannot start a pattern whose
first element is a plain character or character set. The extractors' patterns start with
lookarounds (a lookahead naming the first characters, a lookbehind for the word boundary),
so the engine runs the whole pattern at every position of the text. A *gate* is a pattern
that starts with a character set, checks the same boundary one character later, and asks
for a little more of what every match must have (a hash's 32 hex digits, a host's first
dot). The scan searches for the gate and tries the real pattern only where the gate matched.

The contract: the gate matches at every position where the pattern matches (it is a
necessary condition, never a sufficient one). Then trying the pattern at each gate position
from left to right finds exactly the matches ``pattern.finditer`` finds, and in the same
order: ``tests/test_extract_fastpaths.py`` checks the contract and the equality for every
gated pattern on the generated corpus, on mangled copies of it and on random strings.
"""

from __future__ import annotations

import re
from collections.abc import Iterator


class Gated:
    """``pattern`` searched through ``gate`` (see the module's docstring)."""

    __slots__ = ("gate", "pattern")

    def __init__(self, pattern: re.Pattern[str], gate: str) -> None:
        self.pattern = pattern
        self.gate = re.compile(gate)

    def search(self, text: str, pos: int = 0) -> re.Match[str] | None:
        """The first match at or after ``pos``, as ``pattern.search(text, pos)``."""
        gate, match = self.gate.search, self.pattern.match
        while (g := gate(text, pos)) is not None:
            start = g.start()
            m = match(text, start)
            if m is not None:
                return m
            pos = start + 1
        return None

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        """The matches of ``pattern.finditer(text)`` (none of the gated patterns matches an
        empty string, so each search starts where the last match ended)."""
        gate, match = self.gate.search, self.pattern.match
        pos = 0
        while (g := gate(text, pos)) is not None:
            start = g.start()
            m = match(text, start)
            if m is None:
                pos = start + 1
                continue
            yield m
            pos = m.end()
