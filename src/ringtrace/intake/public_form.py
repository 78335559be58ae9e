"""The public report form, mapped onto report-v1: what a person wrote in each field becomes
the document ingest takes. Pure: no web framework here (web/public.py reads the form and
renders the pages)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from ringtrace.errors import InvalidReport

MAX_FINGERPRINTS = 20  # per role and report: the takedown list is not a bulk upload


COUNTRIES = [
    ("", "Prefer not to say"),
    ("HK", "Hong Kong"),
    ("SG", "Singapore"),
    ("MY", "Malaysia"),
    ("IN", "India"),
    ("KR", "Korea"),
    ("TW", "Taiwan"),
    ("GB", "United Kingdom"),
    ("US", "United States"),
]


METHODS = [
    ("crypto", "Cryptocurrency"),
    ("bank_transfer", "Bank transfer"),
    ("giftcard", "Gift card"),
    ("paypal", "PayPal"),
    ("cashapp", "Cash App"),
    ("upi", "UPI"),
    ("paynow", "PayNow"),
    ("fps", "FPS"),
    ("money_transfer", "Money transfer (Western Union and similar)"),
    ("other", "Other"),
]


AGE_BANDS = ("under-18", "18-24", "25-34", "35-49", "50+")


# Platforms a victim may name beside a handle ("@name (Instagram)"): report-v1 types.
_PLATFORMS = {
    "instagram": "instagram", "insta": "instagram", "ig": "instagram",
    "telegram": "telegram", "tg": "telegram", "whatsapp": "whatsapp", "facebook": "facebook",
    "messenger": "facebook", "fb": "facebook", "snapchat": "snapchat", "snap": "snapchat",
    "tiktok": "tiktok", "wechat": "wechat", "weixin": "wechat", "微信": "wechat", "line": "line",
    "kakaotalk": "kakaotalk", "kakao": "kakaotalk", "skype": "skype", "discord": "discord",
    "twitter": "x", "x": "x",
}  # fmt: skip


_NAMED_HANDLE = re.compile(
    r"^\s*@?(?P<h>[\w.\-]{2,64})\s*[(\[（]\s*(?P<p>[^)\]）]{1,20}?)\s*[)\]）]\s*$"
    r"|^\s*(?P<p2>[^\s:：@]{1,20})\s*[:：]?\s*@(?P<h2>[\w.\-]{2,64})\s*$"
)


def _money(
    kind: str, amount: str, currency: str, method: str, account: str
) -> dict[str, Any] | None:
    entry: dict[str, Any] = {"kind": kind}
    try:
        if amount.strip():
            entry["amount"] = float(Decimal(amount.strip().replace(",", "")))
    except InvalidOperation:
        entry["reference"] = amount.strip()[:100]
    if currency.strip():
        entry["currency"] = currency.strip().upper()[:3]
    if method:
        entry["method"] = method
    if account.strip():
        entry["account"] = account.strip()[:300]
    return entry if len(entry) > 1 else None


def payments(
    demanded: str, paid: str, currency: str, method: str, account: str
) -> list[dict[str, Any]]:
    """What was demanded (with how and where, even without an amount) and, only when the
    person wrote an amount they paid, a payment: an empty or zero "paid" is no payment."""
    method = method if method in dict(METHODS) else ""
    paid_amount = paid.strip()
    paid_something = bool(paid_amount) and paid_amount.replace(",", "").strip("0.") != ""
    out = [
        _money("demanded", demanded, currency, method, "" if paid_something else account),
        _money("paid", paid_amount, currency, method, account) if paid_something else None,
    ]
    return [p for p in out if p]


def identifier(line: str) -> dict[str, str]:
    """One line of "who they are": a handle named with its platform ("@lisa.wong.88
    (Instagram)", "Telegram: @name") becomes that platform's identifier; anything else is
    kept as written for the extractors to read."""
    m = _NAMED_HANDLE.match(line)
    if m:
        handle = m.group("h") or m.group("h2")
        platform = _PLATFORMS.get((m.group("p") or m.group("p2") or "").strip().casefold())
        if platform and handle:
            return {"type": platform, "value": handle.lstrip("@")}
    return {"type": "other", "value": line.strip()}


def parse_fingerprints(media_hashes: str) -> list[Any]:
    hashes = json.loads(media_hashes or "[]")
    if not isinstance(hashes, list):
        raise ValueError("media_hashes: not a list")
    for role in ("own", "lure"):
        n = sum(1 for h in hashes if isinstance(h, dict) and h.get("role") == role)
        if n > MAX_FINGERPRINTS:
            raise InvalidReport(f"at most {MAX_FINGERPRINTS} photos of each kind")
    return hashes


@dataclass(frozen=True)
class PublicForm:
    """What the person wrote in the report form, as sent."""

    narrative: str
    age_band: str
    country: str  # one of COUNTRIES, or ""
    platform: str
    identifiers: str
    messages: str
    demanded: str
    paid: str
    currency: str
    method: str
    account: str
    app_link: str
    contact: str
    consent_contact: bool
    consent_share: bool
    consent_linked: bool

    def document(
        self,
        external_id: str,
        agency: str,
        files: list[dict[str, Any]],
        hashes: list[Any],
        language: str,
    ) -> dict[str, Any]:
        """The report-v1 document (plus ``media_hashes``), owned by ``agency``."""
        reporter: dict[str, Any] = {"language": language}
        if self.country:
            reporter["country"] = self.country
        if self.age_band in AGE_BANDS:
            reporter["age_band"] = self.age_band
        if self.contact.strip():
            reporter["contact"] = self.contact.strip()[:500]
        reporter["consent_contact"] = self.consent_contact
        reporter["consent_share"] = self.consent_share
        reporter["consent_status_linked"] = self.consent_linked
        idents = [identifier(ln) for ln in self.identifiers.splitlines() if ln.strip()]
        if self.app_link.strip():
            idents.append({"type": "other", "value": self.app_link.strip()})
        said = self.messages.strip()
        doc: dict[str, Any] = {
            "format": "ringtrace.report/1",
            "external_id": external_id,
            "source": agency,
            "received_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "reporter": reporter,
            "platform_first_contact": self.platform.strip()[:500] or None,
            "narrative": self.narrative.strip() or None,
            "messages": [{"from": "offender", "text": said}] if said else [],
            "offender_identifiers": idents,
            "payments": payments(
                self.demanded, self.paid, self.currency, self.method, self.account
            ),
            "attachments": files,
            "media_hashes": hashes,
        }
        return {k: v for k, v in doc.items() if v not in (None, [])}
