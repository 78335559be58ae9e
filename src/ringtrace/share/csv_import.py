"""CSV from partners without STIX: each row becomes a report-v1 document through a column
mapping file (JSON, docs/sharing.md):

    {"source": "my-helpline", "external_id": "Case", "received_at": "Date",
     "received_at_format": "%d/%m/%Y", "timezone": "+08:00", "country": "Country",
     "narrative": "Summary", "tlp": "green",
     "identifiers": {"Phone": "phone", "Telegram": "telegram", "Wallet": "crypto_wallet"},
     "payment": {"kind": "paid", "amount": "Amount", "currency": "Currency",
                 "method": "Method", "account": "Account"}}

``source`` and ``tlp`` are constants; every other value names a column. A missing column is an
error naming it; an empty cell is skipped.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

from ringtrace.errors import InvalidReport

REQUIRED = ("source", "external_id", "received_at")


def rows_to_reports(text: str, mapping: dict[str, Any]) -> list[dict[str, Any]]:
    """Report documents for the rows. A malformed file or mapping is an
    :class:`InvalidReport` naming the problem, never another error."""
    if not isinstance(mapping, dict):
        raise InvalidReport("the mapping must be a JSON object")
    try:
        return _rows(text, mapping)
    except csv.Error as e:
        raise InvalidReport(f"not readable as CSV: {e}") from None
    except (KeyError, TypeError, AttributeError) as e:
        raise InvalidReport(
            f"the mapping or a row is malformed ({type(e).__name__}: {e})"
        ) from None


def _rows(text: str, mapping: dict[str, Any]) -> list[dict[str, Any]]:
    for key in REQUIRED:
        if key not in mapping:
            raise InvalidReport(f"the mapping needs {key!r}", field=key)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    columns = set(reader.fieldnames or [])
    wanted = [
        mapping[k] for k in ("external_id", "received_at", "country", "narrative") if mapping.get(k)
    ]
    wanted += list((mapping.get("identifiers") or {}).keys())
    wanted += [v for k, v in (mapping.get("payment") or {}).items() if k != "kind"]
    missing = [c for c in wanted if c not in columns]
    if missing:
        raise InvalidReport(f"the CSV has no column {missing[0]!r} (the mapping names it)")
    out = []
    for n, row in enumerate(reader, start=2):
        cell = {k: (v or "").strip() for k, v in row.items() if k}
        when = cell[mapping["received_at"]]
        fmt = mapping.get("received_at_format")
        try:
            dt = datetime.strptime(when, fmt) if fmt else datetime.fromisoformat(when)
        except ValueError:
            raise InvalidReport(
                f"cannot read the date {when!r}", field=mapping["received_at"], line=n
            ) from None
        stamp = dt.isoformat()
        if dt.tzinfo is None:
            stamp += mapping.get("timezone", "+00:00")
        doc: dict[str, Any] = {
            "external_id": cell[mapping["external_id"]],
            "source": mapping["source"],
            "received_at": stamp,
            "tlp": mapping.get("tlp", "amber"),
        }
        if mapping.get("country") and cell.get(mapping["country"]):
            doc["reporter"] = {"country": cell[mapping["country"]].upper()[:2]}
        if mapping.get("narrative") and cell.get(mapping["narrative"]):
            doc["narrative"] = cell[mapping["narrative"]]
        idents = [
            {"type": typ, "value": cell[col]}
            for col, typ in (mapping.get("identifiers") or {}).items()
            if cell.get(col)
        ]
        if idents:
            doc["offender_identifiers"] = idents
        pay = mapping.get("payment") or {}
        payment: dict[str, Any] = {"kind": pay.get("kind", "paid")}
        for field in ("amount", "currency", "method", "account"):
            col = pay.get(field)
            if col and cell.get(col):
                payment[field] = cell[col]
        if "amount" in payment:
            try:
                payment["amount"] = float(str(payment["amount"]).replace(",", ""))
            except ValueError:
                raise InvalidReport(
                    f"cannot read the amount {payment['amount']!r}", line=n
                ) from None
        if len(payment) > 1:
            doc["payments"] = [payment]
        out.append(doc)
    return out
