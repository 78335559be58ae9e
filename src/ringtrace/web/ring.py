"""What the ring view shows beside the keys: a graph, a timeline, the money trail, the
countries and the agencies. Built only from what the viewer may see."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ringtrace.domain.models import Cluster, ReportRef


def _amount(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)) if value is not None else None
    except (InvalidOperation, ValueError):
        return None


# Key types drawn alike in the graph and its legend (colours and shapes in ring-graph.js and
# site.css): a group per kind of infrastructure.
KEY_GROUPS = {
    "phone": "phone", "whatsapp": "phone", "email": "email", "url": "web", "domain": "web",
    "ip": "web", "crypto_wallet": "money", "bank_account": "money", "iban": "money",
    "upi": "money", "paynow": "money", "fps": "money", "giftcard": "money",
    "apk_cert": "app", "apk_package": "app",
}  # fmt: skip
GROUP_NAMES = {
    "report": "report", "phone": "phone or WhatsApp number", "web": "web address or server",
    "money": "payment account or wallet", "handle": "social or chat handle", "email": "e-mail",
    "app": "app signing key or package", "other": "other",
}  # fmt: skip
_HANDLES = {"telegram", "instagram", "facebook", "snapchat", "tiktok", "wechat", "line",
            "kakaotalk", "skype", "discord", "x", "dating_profile"}  # fmt: skip


def key_group(key_type: str) -> str:
    return KEY_GROUPS.get(key_type, "handle" if key_type in _HANDLES else "other")


def key_href(key_type: str, value: str) -> str:
    return f"/console/keys/{quote(key_type, safe='')}/{quote(value, safe='')}"


def graph(
    cluster: Cluster, ids: dict[ReportRef, int], *, agencies: dict[ReportRef, str] | None = None,
    dates: dict[ReportRef, str] | None = None, restricted: set[ReportRef] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Cytoscape elements: report nodes, key nodes, and an edge from each report to each key
    it holds. Excluded keys are included, marked, and hidden until asked for. Each node
    carries what the filters need (key group, agency, date)."""
    agencies, dates, restricted = agencies or {}, dates or {}, restricted or set()
    nodes: list[dict[str, Any]] = []
    edges: list[dict[str, Any]] = []
    for ref in cluster.reports:
        nodes.append({"data": {
            "id": f"r{ids[ref]}", "label": ref.external_id, "kind": "report", "group": "report",
            "href": f"/console/reports/{ids[ref]}", "agency": agencies.get(ref, ""),
            "date": dates.get(ref, ""), "restricted": ref in restricted,
        }})  # fmt: skip
    for n, (links, excluded) in enumerate(((cluster.links, False), (cluster.excluded, True))):
        for k, lk in enumerate(links):
            kid = f"k{n}-{k}"
            nodes.append({"data": {
                "id": kid, "label": lk.key.value, "kind": lk.key.type,
                "group": key_group(lk.key.type), "excluded": excluded,
                "href": key_href(lk.key.type, lk.key.value), "degree": len(lk.reports),
            }})  # fmt: skip
            for ref in lk.reports:
                edges.append({"data": {"id": f"{kid}-{ids[ref]}", "source": f"r{ids[ref]}",
                                       "target": kid, "excluded": excluded}})  # fmt: skip
    return {"nodes": nodes, "edges": edges}


METHOD_WORDS = {
    "crypto": "cryptocurrency", "bank_transfer": "bank transfer", "giftcard": "gift card",
    "paypal": "PayPal", "cashapp": "Cash App", "upi": "UPI", "paynow": "PayNow", "fps": "FPS",
    "money_transfer": "money transfer service", "other": "other means",
}  # fmt: skip

# The time zones an analyst may choose for a timeline (IANA names); UTC by default.
TIME_ZONES = (
    "UTC", "Asia/Singapore", "Asia/Hong_Kong", "Asia/Kuala_Lumpur", "Asia/Kolkata", "Asia/Seoul",
    "Asia/Taipei", "Europe/London", "America/New_York",
)  # fmt: skip


def money(amount: Decimal | None) -> str:
    """82000.0 and 82000 both read "82,000"; cents are kept when there are any."""
    if amount is None:
        return ""
    q = amount.quantize(Decimal("0.01"))
    return f"{q:,.0f}" if q == q.to_integral_value() else f"{q:,.2f}"


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name if name in TIME_ZONES else "UTC")
    except ZoneInfoNotFoundError:
        return ZoneInfo("UTC")


def _when(at: Any) -> datetime | None:
    try:
        dt = datetime.fromisoformat(str(at).replace("Z", "+00:00"))
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def money_and_timeline(
    documents: dict[int, dict[str, Any]], names: dict[int, str] | None = None,
    tz: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """From the documents the viewer may read: demanded and paid per currency, per account,
    and the story in time order (first contact, messages, demands, payments, the report), in
    one time zone, each event naming its report by reference."""
    names = names or {}
    where = zone(tz)
    per_currency: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"demanded": Decimal(0), "paid": Decimal(0), "methods": set()}
    )
    per_account: dict[tuple[str, str], dict[str, Any]] = {}
    events: list[dict[str, Any]] = []

    def event(at: Any, rid: int, what: str, detail: str) -> None:
        dt = _when(at)
        if dt is not None:
            events.append({"dt": dt, "report": rid, "ref": names.get(rid, f"#{rid}"),
                           "what": what, "detail": detail})  # fmt: skip

    for rid, doc in documents.items():
        dated = [m for m in doc.get("messages", []) or []
                 if isinstance(m, dict) and m.get("sent_at") and _when(m["sent_at"])]  # fmt: skip
        dated.sort(key=lambda m: _when(m["sent_at"]))  # type: ignore[arg-type, return-value]
        for n, m in enumerate(dated):
            who = "the offender" if m.get("from") == "offender" else "the victim"
            what = "first contact" if n == 0 else f"message from {who}"
            event(m["sent_at"], rid, what, str(m.get("text") or "")[:160])
        for p in doc.get("payments", []) or []:
            if not isinstance(p, dict):
                continue
            kind = p.get("kind")
            amount = _amount(p.get("amount"))
            currency = str(p.get("currency") or "?").upper()
            method = METHOD_WORDS.get(str(p.get("method") or "other"), "other means")
            if amount is not None and kind in ("demanded", "paid"):
                per_currency[currency][kind] += amount
                per_currency[currency]["methods"].add(method)
            acct = p.get("account")
            if acct and kind in ("demanded", "paid"):
                entry = per_account.setdefault(
                    (str(acct), currency),
                    {
                        "demanded": Decimal(0),
                        "paid": Decimal(0),
                        "reports": set(),
                        "method": method,
                    },
                )
                if amount is not None:
                    entry[kind] += amount
                entry["reports"].add(rid)
            if p.get("at"):
                verb = "payment" if kind == "paid" else "demand"
                event(p["at"], rid, verb, f"{money(amount)} {currency} by {method}".strip())
        if doc.get("received_at"):
            first = doc.get("platform_first_contact")
            event(doc["received_at"], rid, "reported",
                  f"first contact on {first}" if first else "")  # fmt: skip

    events.sort(key=lambda e: e["dt"])
    for e in events:
        e["at"] = e.pop("dt").astimezone(where).strftime("%Y-%m-%d %H:%M")
    top = max((v["demanded"] for v in per_currency.values()), default=Decimal(0)) or Decimal(1)
    return {
        "per_currency": [
            {"currency": c, "methods": ", ".join(sorted(v["methods"])),
             "demanded": money(v["demanded"]), "paid": money(v["paid"]), "paid_raw": v["paid"],
             "demanded_pct": int(100 * v["demanded"] / top), "paid_pct": int(100 * v["paid"] / top)}
            for c, v in sorted(per_currency.items())
        ],
        "per_account": sorted(
            (
                {"account": a, "currency": cur, "method": v["method"],
                 "demanded": money(v["demanded"]), "paid": money(v["paid"]),
                 "reports": len(v["reports"])}
                for (a, cur), v in per_account.items()
            ),
            key=lambda x: (-x["reports"], x["account"]),
        ),
        "timeline": events[:300],
        "tz": where.key,
    }  # fmt: skip


def phone_regions(cluster: Cluster) -> list[str]:
    import phonenumbers

    regions = set()
    for lk in [*cluster.links, *cluster.excluded]:
        if lk.key.type in ("phone", "whatsapp"):
            try:
                region = phonenumbers.region_code_for_number(phonenumbers.parse(lk.key.value))
            except phonenumbers.NumberParseException:
                continue
            if region:
                regions.add(region)
    return sorted(regions)
