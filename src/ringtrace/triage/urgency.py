"""Urgency of a report for the triage queue, with the reasons behind it.

Points (docs/access.md): the reporter is under 18 (+100); the victim's own words show a risk
of self-harm (+100, phrase lists per language in phrases.json); the offender set a deadline
within hours (+50) or another deadline (+30); the report joined a known ring (+40); and
recency (+20 today, falling by 2 a day). Reports of someone under 18 or at risk of
self-harm come before all others; they and a deadline within hours raise an alert when a
report arrives from the public page.
The order is for people to read the most urgent first; nothing is decided automatically.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Any


@dataclass(frozen=True)
class Urgency:
    score: int
    reasons: list[str] = field(default_factory=list)
    crisis: bool = False  # under 18 or self-harm risk: show crisis contacts, act now
    alert: bool = False  # crisis, or a deadline within hours: tell the agency's people now


@cache
def phrases() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        resources.files("ringtrace.triage").joinpath("phrases.json").read_text(encoding="utf-8")
    )
    return data


def _hits(text: str, kind: str) -> list[str]:
    low = text.casefold()
    return sorted({p for lang in phrases()[kind].values() for p in lang if p.casefold() in low})


def self_harm_phrases(text: str) -> list[str]:
    return _hits(text, "self_harm")


def deadline_phrases(text: str) -> list[str]:
    return _hits(text, "deadline")


def deadline_hours_phrases(text: str) -> list[str]:
    return _hits(text, "deadline_hours")


def from_document(document: dict[str, Any]) -> Urgency:
    """The part of the urgency that the document alone decides (age, self-harm, deadlines).
    It is worked out once, when the report is stored, and kept in the report's row
    (store/view_columns.py), so lists need not open the document again."""
    score, reasons, crisis = 0, [], False
    reporter = document.get("reporter") or {}
    if isinstance(reporter, dict) and reporter.get("age_band") == "under-18":
        score += 100
        reasons.append("the reporter is under 18")
        crisis = True
    messages = [m for m in document.get("messages", []) if isinstance(m, dict)]
    own_words = [document.get("narrative") or ""]
    own_words += [m.get("text", "") for m in messages if m.get("from") == "victim"]
    harm = self_harm_phrases("\n".join(own_words))
    if harm:
        score += 100
        reasons.append(f"possible self-harm risk ({', '.join(harm[:3])})")
        crisis = True
    threats = "\n".join(m.get("text", "") for m in messages if m.get("from") == "offender")
    within_hours = deadline_hours_phrases(threats)
    deadline = deadline_phrases(threats)
    if within_hours:
        score += 50
        reasons.append(f"the threat sets a deadline within hours ({within_hours[0]})")
    elif deadline:
        score += 30
        reasons.append(f"the threat sets a deadline ({deadline[0]})")
    return Urgency(score, reasons, crisis, alert=crisis or bool(within_hours))


def in_context(
    base: Urgency, *, in_ring: bool, received_at: datetime, now: datetime | None = None
) -> Urgency:
    """The document's urgency plus what changes after it was stored: a ring, the days."""
    score, reasons = base.score, list(base.reasons)
    if in_ring:
        score += 40
        reasons.append("linked to a known ring")
    now = now or datetime.now(UTC)
    days = max(0.0, (now - received_at).total_seconds() / 86400)
    recency = max(0, 20 - int(days * 2))
    if recency:
        score += recency
        reasons.append("received in the last days" if days >= 1 else "received today")
    return Urgency(score, reasons, base.crisis, base.alert)


def assess(
    document: dict[str, Any], *, in_ring: bool, received_at: datetime, now: datetime | None = None
) -> Urgency:
    return in_context(from_document(document), in_ring=in_ring, received_at=received_at, now=now)
