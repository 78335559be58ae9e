"""Payment accounts: wallets, bank accounts, IBANs and instant-payment ids.

Applied to typed identifiers and to ``payments[].account``; the payment ``method`` decides
how an account string is read.
"""

from __future__ import annotations

import re

from ringtrace.indicators.crypto import normalise_wallet
from ringtrace.indicators.network import normalise_email
from ringtrace.indicators.phones import normalise_phone
from ringtrace.indicators.registry import (
    Candidate,
    Context,
    IdentifierNormaliser,
    identifier_normaliser,
    payment_extractor,
)
from ringtrace.intake.schema import Payment

VERSION = "1"

_ACCOUNT_DIGITS = re.compile(r"\d[\d\- .]{4,30}\d")
_IBAN = re.compile(r"^[A-Z]{2}\d{2}[A-Z0-9]{10,30}$")
_UPI = re.compile(r"^[a-z0-9._-]{2,256}@[a-z][a-z0-9]{1,63}$")
_GIFTCARD = re.compile(r"^[A-Z0-9]{10,25}$")
_CASHTAG = re.compile(r"^\$[a-z][a-z0-9_]{0,19}$")


def normalise_iban(raw: str) -> str | None:
    """Compact IBAN when its ISO 7064 mod-97 check holds."""
    text = re.sub(r"[\s\-.]", "", raw).upper().removeprefix("IBAN")
    if not _IBAN.match(text):
        return None
    moved = text[4:] + text[:4]
    digits = "".join(str(int(c, 36)) for c in moved)
    return text if int(digits) % 97 == 1 else None


def normalise_bank_account(raw: str) -> tuple[str, dict[str, str]] | None:
    """Account number (digits only) and the bank's name as written beside it."""
    m = _ACCOUNT_DIGITS.search(raw)
    if not m:
        return None
    digits = re.sub(r"\D", "", m.group(0))
    if not 6 <= len(digits) <= 20 or len(set(digits)) == 1:
        return None
    bank = (raw[: m.start()] + " " + raw[m.end() :]).strip(" -:,()")
    bank = re.sub(r"\s+", " ", re.sub(r"(?i)\b(?:a/?c|acct|account|no\.?|number)\b", "", bank))
    bank = bank.strip(" -:,.()")
    return digits, ({"bank": bank} if bank else {})


def _whole(
    type_: str, value: str | None, raw: str, attrs: dict[str, str] | None = None
) -> list[Candidate]:
    return [] if value is None else [Candidate(type_, value, raw, 0, len(raw), attrs or {})]


@identifier_normaliser("crypto_wallet", name="wallet", version=VERSION)
def _wallet(raw: str, ctx: Context) -> list[Candidate]:
    norm = normalise_wallet(raw)
    return [] if norm is None else _whole("crypto_wallet", norm[0], raw, norm[1])


@identifier_normaliser("iban", name="iban", version=VERSION)
def _iban(raw: str, ctx: Context) -> list[Candidate]:
    return _whole("iban", normalise_iban(raw), raw)


@identifier_normaliser("bank_account", name="bank_account", version=VERSION)
def _bank_account(raw: str, ctx: Context) -> list[Candidate]:
    iban = normalise_iban(raw)
    if iban is not None:
        return _whole("iban", iban, raw)
    norm = normalise_bank_account(raw)
    return [] if norm is None else _whole("bank_account", norm[0], raw, norm[1])


@identifier_normaliser("upi", name="upi", version=VERSION)
def _upi(raw: str, ctx: Context) -> list[Candidate]:
    value = raw.strip().lower()
    return _whole("upi", value if _UPI.match(value) else None, raw)


def _instant(kind: str) -> IdentifierNormaliser:
    def normaliser(raw: str, ctx: Context) -> list[Candidate]:
        # PayNow and FPS proxies are phone numbers, company/ID numbers or emails.
        phone = normalise_phone(raw, ctx.country)
        if phone is not None:
            return _whole("phone", phone[0], raw, {**phone[1], "via": kind})
        email = normalise_email(raw)
        if email is not None:
            return _whole("email", email, raw, {"via": kind})
        value = re.sub(r"[\s\-]", "", raw).upper()
        return _whole(kind, value if re.fullmatch(r"[A-Z0-9]{6,20}", value) else None, raw)

    return identifier_normaliser(kind, name=kind, version=VERSION)(normaliser)


_paynow = _instant("paynow")
_fps = _instant("fps")


@identifier_normaliser("giftcard", name="giftcard", version=VERSION)
def _giftcard(raw: str, ctx: Context) -> list[Candidate]:
    value = re.sub(r"[\s\-]", "", raw).upper()
    return _whole("giftcard", value if _GIFTCARD.match(value) else None, raw)


_BY_METHOD = {
    "crypto": _wallet,
    "bank_transfer": _bank_account,
    "upi": _upi,
    "giftcard": _giftcard,
    "paynow": _paynow,
    "fps": _fps,
}


@payment_extractor(name="payment", version=VERSION)
def payment_account(payment: Payment, ctx: Context) -> list[Candidate]:
    """Link keys in the account a payment was demanded to or paid into."""
    raw = payment.account
    if not raw or not raw.strip():
        return []
    method = payment.method
    if method in _BY_METHOD:
        return list(_BY_METHOD[method](raw, ctx))
    if method == "paypal":
        email = normalise_email(raw)
        return _whole("email", email, raw, {"via": "paypal"})
    if method == "cashapp":
        tag = raw.strip().lower()
        return _whole("cashapp", tag if _CASHTAG.match(tag) else None, raw)
    # Unknown method: accept only what validates unambiguously.
    wallet = normalise_wallet(raw)
    if wallet is not None:
        return _whole("crypto_wallet", wallet[0], raw, wallet[1])
    iban = normalise_iban(raw)
    if iban is not None:
        return _whole("iban", iban, raw)
    return []
