"""Decoding JSON from outside with limits: nesting depth and numbers.

Python's ``json`` accepts what no report needs and some that hurts: nesting deep enough to
exhaust the recursion limit (a ``RecursionError``, not a ``ValueError``), ``NaN`` and
``Infinity``, and ``1e400``, which becomes ``inf`` and would be stored as such. Every door that
decodes a client's JSON (the API, an import line, a TAXII envelope) goes through :func:`loads`,
which refuses these with :class:`InvalidReport` naming the field where it happened.
"""

from __future__ import annotations

import json
import math
from typing import Any

from ringtrace.errors import InvalidReport

MAX_DEPTH = 32  # report-v1 nests four levels; STIX envelopes a few more
MAX_INT_DIGITS = 30


class _BadNumber:
    """Stands in for a number that cannot be kept, so that the walk can name its field."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def _float(text: str) -> Any:
    value = float(text)
    return value if math.isfinite(value) else _BadNumber(text)


def _int(text: str) -> Any:
    return int(text) if len(text.lstrip("-")) <= MAX_INT_DIGITS else _BadNumber(text)


def _constant(text: str) -> Any:
    return _BadNumber(text)  # NaN, Infinity, -Infinity


def loads(text: str | bytes, *, line: int | None = None, max_depth: int = MAX_DEPTH) -> Any:
    """The decoded value of ``text``, or :class:`InvalidReport` (HTTP 422) for text that is
    not JSON, nests deeper than ``max_depth``, or holds a number that is not finite or
    has more than :data:`MAX_INT_DIGITS` digits."""
    try:
        value = json.loads(text, parse_float=_float, parse_int=_int, parse_constant=_constant)
    except json.JSONDecodeError as e:
        raise InvalidReport(f"not valid JSON: {e.msg} at column {e.colno}", line=line) from e
    except UnicodeDecodeError as e:
        raise InvalidReport("the body must be UTF-8 encoded JSON", line=line) from e
    except RecursionError as e:
        raise InvalidReport(f"JSON nested deeper than {max_depth} levels", line=line) from e
    _check(value, max_depth, line)
    return value


def _check(value: Any, max_depth: int, line: int | None) -> None:
    # Iterative, so that checking cannot itself run out of stack.
    stack: list[tuple[Any, tuple[str, ...]]] = [(value, ())]
    while stack:
        node, path = stack.pop()
        if isinstance(node, _BadNumber):
            raise InvalidReport(
                f"number {node.text[:40]!r} is out of range (finite, at most "
                f"{MAX_INT_DIGITS} digits)",
                field=".".join(path) or None,
                line=line,
            )
        if isinstance(node, dict | list):
            if len(path) >= max_depth:
                raise InvalidReport(
                    f"JSON nested deeper than {max_depth} levels",
                    field=".".join(path) or None,
                    line=line,
                )
            items = node.items() if isinstance(node, dict) else enumerate(node)
            stack.extend((child, (*path, str(key))) for key, child in items)
