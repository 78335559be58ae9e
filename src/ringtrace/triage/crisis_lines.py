"""Crisis lines per country (crisis-lines.json: versioned, each number with its source), for
the public page to show to a reporter who is under 18 or writes about self-harm."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def data() -> dict[str, Any]:
    text = resources.files("ringtrace.triage").joinpath("crisis-lines.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def for_country(country: str | None) -> list[dict[str, Any]]:
    """The lines of one country (empty when it has none here)."""
    lines: list[dict[str, Any]] = data()["countries"].get((country or "").upper(), [])
    return lines


def countries() -> list[str]:
    return sorted(data()["countries"])
