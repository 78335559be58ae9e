"""What the ring view shows beside the keys: a graph, a timeline, the money trail, the
countries and the agencies. Built only from what the viewer may see."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from ringtrace.domain.models import Cluster, ReportRef


def _amount(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)) if value is not None else None
    except (InvalidOperation, ValueError):
        return None


def graph(cluster: Cluster, ids: dict[ReportRef, int]) -> dict[str, Any]:
    """Cytoscape elements: report nodes, key nodes, and an edge from each report to each key
    it holds. Excluded keys are included, marked, and hidden until asked for."""
    nodes: list[dict[str, Any]] = []
    edges: list[dict[str, Any]] = []
    for ref in cluster.reports:
        nodes.append(
            {
                "data": {
                    "id": f"r{ids[ref]}",
                    "label": ref.external_id,
                    "kind": "report",
                    "href": f"/console/reports/{ids[ref]}",
                }
            }
        )
    for n, (links, excluded) in enumerate(((cluster.links, False), (cluster.excluded, True))):
        for k, lk in enumerate(links):
            kid = f"k{n}-{k}"
            nodes.append(
                {
                    "data": {
                        "id": kid,
                        "label": lk.key.value,
                        "kind": lk.key.type,
                        "excluded": excluded,
                    }
                }
            )
            for ref in lk.reports:
                edges.append(
                    {
                        "data": {
                            "id": f"{kid}-{ids[ref]}",
                            "source": f"r{ids[ref]}",
                            "target": kid,
                            "excluded": excluded,
                        }
                    }
                )
    return {"nodes": nodes, "edges": edges}


def money_and_timeline(documents: dict[int, dict[str, Any]]) -> dict[str, Any]:
    """From the documents the viewer may read: demanded and paid per currency and method, per
    account, and a timeline of first contact, demands and payments."""
    per_currency: dict[tuple[str, str], dict[str, Decimal]] = defaultdict(
        lambda: {"demanded": Decimal(0), "paid": Decimal(0)}
    )
    per_account: dict[str, dict[str, Any]] = {}
    events: list[dict[str, Any]] = []
    for rid, doc in documents.items():
        for m in doc.get("messages", []) or []:
            if isinstance(m, dict) and m.get("from") == "offender" and m.get("sent_at"):
                events.append(
                    {
                        "at": str(m["sent_at"]),
                        "report": rid,
                        "what": "message from the offender",
                        "detail": (m.get("text") or "")[:140],
                    }
                )
        for p in doc.get("payments", []) or []:
            if not isinstance(p, dict):
                continue
            kind = p.get("kind")
            amount = _amount(p.get("amount"))
            currency = str(p.get("currency") or "?").upper()
            method = str(p.get("method") or "other")
            if amount is not None and kind in ("demanded", "paid"):
                per_currency[(currency, method)][kind] += amount
            acct = p.get("account")
            if acct and kind == "paid":
                entry = per_account.setdefault(
                    str(acct), {"paid": defaultdict(Decimal), "reports": set()}
                )
                if amount is not None:
                    entry["paid"][currency] += amount
                entry["reports"].add(rid)
            if p.get("at"):
                events.append(
                    {
                        "at": str(p["at"]),
                        "report": rid,
                        "what": "payment" if kind == "paid" else "demand",
                        "detail": f"{amount or ''} {currency} by {method}".strip(),
                    }
                )
        if doc.get("received_at"):
            events.append(
                {
                    "at": str(doc["received_at"]),
                    "report": rid,
                    "what": "reported",
                    "detail": doc.get("platform_first_contact") or "",
                }
            )

    def when(e: dict[str, Any]) -> str:
        at = str(e["at"])
        try:
            return datetime.fromisoformat(at.replace("Z", "+00:00")).isoformat()
        except ValueError:
            return at

    events.sort(key=when)
    return {
        "per_currency": [
            {"currency": c, "method": m, "demanded": v["demanded"], "paid": v["paid"]}
            for (c, m), v in sorted(per_currency.items())
        ],
        "per_account": sorted(
            (
                {"account": a, "paid": dict(v["paid"]), "reports": len(v["reports"])}
                for a, v in per_account.items()
            ),
            key=lambda x: (-x["reports"], x["account"]),
        ),
        "timeline": events[:300],
    }


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
