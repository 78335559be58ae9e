"""A report as a person reads it: its narrative and messages as text in their own script,
with every identifier found in them marked where it was found (and linked to its page), its
payments in words, and why it is urgent. Built only from what the viewer may see."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from ringtrace.domain.models import Indicator
from ringtrace.web.ring import METHOD_WORDS, key_href, money


def local_time(at: Any) -> str:
    """A time as the report wrote it, readable: "2024-10-02 22:15 (UTC+08:00)"."""
    try:
        dt = datetime.fromisoformat(str(at).replace("Z", "+00:00"))
    except ValueError:
        return str(at or "")
    zone = dt.strftime("%z")
    offset = f" (UTC{zone[:3]}:{zone[3:]})" if zone else ""
    return dt.strftime("%Y-%m-%d %H:%M") + offset


_FIELDS = {"narrative": "the narrative", "platform_first_contact": "where it began",
           "messages": "message", "offender_identifiers": "identifier given",
           "payments": "payment", "text": "the text"}  # fmt: skip


def field_words(field: str) -> str:
    """Where an identifier was found, in words: "messages.0.text" is "message 1"."""
    parts = field.split(".")
    words = _FIELDS.get(parts[0], parts[0])
    if len(parts) > 1 and parts[1].isdigit():
        words += f" {int(parts[1]) + 1}"
    return words


def segments(text: str, spans: list[tuple[int, int, str, str]]) -> list[dict[str, str]]:
    """``text`` cut into plain pieces and marked pieces (start, end, key type, key value);
    overlapping spans keep the first."""
    out: list[dict[str, str]] = []
    pos = 0
    for start, end, typ, value in sorted(spans):
        if start < pos or end > len(text) or start >= end:
            continue
        if start > pos:
            out.append({"text": text[pos:start]})
        out.append({"text": text[start:end], "type": typ, "href": key_href(typ, value)})
        pos = end
    if pos < len(text):
        out.append({"text": text[pos:]})
    return out


def readable(document: dict[str, Any], indicators: list[Indicator]) -> dict[str, Any]:
    spans: dict[str, list[tuple[int, int, str, str]]] = defaultdict(list)
    for ind in indicators:
        for o in ind.occurrences:
            spans[o.field].append((o.start, o.end, ind.type, ind.value))
    texts = []
    for field, title in (
        ("platform_first_contact", "Where it began"),
        ("narrative", "In the reporter's words"),
    ):
        value = document.get(field)
        if isinstance(value, str) and value:
            texts.append({"title": title, "parts": segments(value, spans[field])})
    messages = []
    for i, m in enumerate(document.get("messages", []) or []):
        if not isinstance(m, dict):
            continue
        text = str(m.get("text") or "")
        messages.append({"from": "offender" if m.get("from") == "offender" else "victim",
                         "channel": m.get("channel") or "",
                         "at": local_time(m["sent_at"]) if m.get("sent_at") else "",
                         "parts": segments(text, spans[f"messages.{i}.text"])})  # fmt: skip
    payments = []
    for p in document.get("payments", []) or []:
        if not isinstance(p, dict):
            continue
        try:
            amount = Decimal(str(p["amount"])) if p.get("amount") is not None else None
        except (InvalidOperation, ValueError):
            amount = None
        payments.append({"kind": "paid" if p.get("kind") == "paid" else "demanded",
                         "amount": money(amount), "currency": str(p.get("currency") or "").upper(),
                         "method": METHOD_WORDS.get(str(p.get("method") or "other"), "other means"),
                         "account": p.get("account") or "",
                         "at": local_time(p.get("at")) if p.get("at") else ""})  # fmt: skip
    return {"texts": texts, "messages": messages, "payments": payments}
