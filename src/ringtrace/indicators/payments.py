"""Payment accounts: wallets, bank accounts, IBANs and instant-payment ids.

Applied to typed identifiers and to ``payments[].account``; the payment ``method`` decides
how an account string is read.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources

from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

from ringtrace.indicators.crypto import normalise_wallet
from ringtrace.indicators.gated import Gated
from ringtrace.indicators.network import normalise_email
from ringtrace.indicators.phones import normalise_phone, written_as_phone
from ringtrace.indicators.registry import (
    Candidate,
    Context,
    IdentifierNormaliser,
    identifier_normaliser,
    lowered,
    payment_extractor,
    text_extractor,
)
from ringtrace.intake.schema import Payment

VERSION = "2"

_ACCOUNT_DIGITS = re.compile(r"\d[\d\- .]{4,30}\d")
_IBAN = re.compile(r"^[A-Z]{2}\d{2}[A-Z0-9]{10,30}$")
_UPI = re.compile(r"^[a-z0-9._-]{2,256}@[a-z][a-z0-9]{1,63}$")
_GIFTCARD = re.compile(r"^[A-Z0-9]{10,25}$")
_CASHTAG = re.compile(r"^\$[a-z][a-z0-9_]{0,19}$")


def normalise_iban(raw: str) -> str | None:
    """Compact IBAN when schwifty accepts it: the country's length and BBAN format, and the
    ISO 7064 mod-97 check digits."""
    text = re.sub(r"[\s\-.]", "", raw).upper().removeprefix("IBAN")
    if not _IBAN.match(text):
        return None
    try:
        return str(IBAN(text).compact)
    except SchwiftyException:
        return None


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
    # An IBAN written with the bank's name or a label ("Revolut IBAN GB15 MVCF 5749 …"): the
    # IBAN, not the digits of the whole field.
    for m in _IBAN_SCAN.finditer(raw):
        iban = normalise_iban(m.group(0))
        if iban is not None:
            return [Candidate("iban", iban, m.group(0), m.start(), m.end())]
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


# --- payment identifiers in free text ----------------------------------------------------

_IBAN_TEXT = re.compile(  # the lookahead: a match's first characters, to reject others fast
    r"(?=[A-Z])(?<![A-Za-z0-9])"
    r"[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?(?![A-Za-z0-9])"
)
# Searched through a gate (indicators/gated.py): a capital at a word start, a capital and
# two digits.
_IBAN_SCAN = Gated(_IBAN_TEXT, r"[A-Z](?<![A-Za-z0-9][A-Z])[A-Z]\d\d")
# UPI ids: name@psp, where psp is a bank's UPI handle (NPCI's published list, abridged).
UPI_HANDLES = frozenset(
    {"okaxis", "oksbi", "okhdfcbank", "okicici", "ybl", "ibl", "axl", "paytm", "upi", "apl",
     "axisbank", "icici", "hdfcbank", "sbi", "kotak", "yesbank", "idfcbank", "pnb", "boi",
     "barodampay", "unionbank", "indus", "federal", "rbl", "airtel", "jio", "freecharge",
     "axisb", "yapl", "waaxis", "wahdfcbank", "wasbi", "waicici", "fbl", "aubank", "dbs"}
)  # fmt: skip
_UPI_TEXT = re.compile(
    r"(?<![A-Za-z0-9._-])((?>[A-Za-z0-9][A-Za-z0-9._-]{1,255}))@([A-Za-z]{2,20})(?![A-Za-z0-9@-]|\.[A-Za-z0-9])"
)
_PAY_WORDS = re.compile(  # run on lowered text
    r"pay\s?now|fps|轉數快|转数快|gift|steam|itunes|apple|google\s?play|amazon|mtcn|control|money\s?gram"
)
# Labels are matched in any case; the values have a fixed shape per kind (gift-card codes are
# printed in capitals), so the prose after a value is never swallowed.
_LABELLED_PAY = re.compile(
    r"(?i:(?P<paynow>pay\s?now)|(?P<fps>fps|轉數快|转数快)"
    r"|(?P<giftcard>gift\s?card|steam\s?(?:card|code)?|itunes|apple\s?card|google\s?play|amazon\s?(?:card|code))"
    r"|(?P<money_transfer>mtcn|control\s?(?:no\.?|number)"
    r"|money\s?gram\s?(?:ref(?:erence)?|no\.?|number)?))"
    r"(?i:\s*(?:id|uen|no\.?|number|code|ref|reference|號碼|号码|編號|编号))?\s*(?i:[:：#]|to|is)?\s*"
    r"(?P<value>\+?[0-9][0-9 \-]{5,16}[0-9]"
    r"|[A-Z0-9]{4,5}(?:-?[A-Z0-9]{4,5}){1,4}|[A-Z]\d{7,9}[A-Z]?)"
    r"(?![A-Za-z0-9])"
)


@text_extractor
class IbanExtractor:
    """IBANs in text, validated by country length and check digits (schwifty)."""

    name = "iban"
    version = VERSION

    def extract(self, text: str, ctx: Context) -> Iterable[Candidate]:
        for m in _IBAN_SCAN.finditer(text):
            value = normalise_iban(m.group(0))
            if value is not None:
                yield Candidate("iban", value, m.group(0), m.start(), m.end(), container=True)


@text_extractor
class UpiExtractor:
    name = "upi"
    version = VERSION

    def extract(self, text: str, ctx: Context) -> Iterable[Candidate]:
        if "@" not in text:
            return
        for m in _UPI_TEXT.finditer(text):
            if m.group(2).lower() in UPI_HANDLES:
                yield Candidate(
                    "upi", m.group(0).lower(), m.group(0), m.start(), m.end(), container=True
                )


@text_extractor
class LabelledPaymentExtractor:
    """PayNow / FPS proxies, gift-card codes and money-transfer control numbers, taken only
    when the text names them (an unlabelled 10-digit number is not an MTCN)."""

    name = "labelled-payment"
    version = VERSION

    def extract(self, text: str, ctx: Context) -> Iterable[Candidate]:
        low = lowered(text)
        pos = 0
        while (hit := _PAY_WORDS.search(low, pos)) is not None:
            m = _LABELLED_PAY.match(text, hit.start())
            if m is None:
                pos = hit.end()
                continue
            pos = m.end()
            kind = next(k for k in ("paynow", "fps", "giftcard", "money_transfer") if m.group(k))
            raw = m.group("value")
            start = m.start("value")
            compact = re.sub(r"[\s\-]", "", raw).upper()
            if kind in ("paynow", "fps"):
                phone = normalise_phone(raw, ctx.country)
                if phone is not None:
                    attrs = {**phone[1], "via": kind}
                    yield Candidate("phone", phone[0], raw, start, start + len(raw), attrs)
                elif re.fullmatch(
                    r"\d{7,9}|\d{8}[A-Z]|[STFG]\d{7}[A-Z]|\d{9}[A-Z]\d{0,3}", compact
                ):
                    yield Candidate(kind, compact, raw, start, start + len(raw))
            elif kind == "money_transfer":
                if re.fullmatch(r"\d{8}|\d{10}", compact):
                    yield Candidate(
                        "money_transfer", compact, raw, start, start + len(raw), container=True
                    )
            elif (
                _GIFTCARD.match(compact)
                and any(c.isdigit() for c in compact)
                and any(c.isalpha() for c in compact)
            ):
                yield Candidate("giftcard", compact, raw, start, start + len(raw), container=True)


# --- bank accounts in free text -----------------------------------------------------------

_ACCOUNT_WORDS = (
    "bank account", "bank acc", "account", "acct", "acc", "a/c", "akaun", "rekening", "norek",
    "no rek", "no. rek", "帳號", "账号", "帐号", "帳戶", "账户", "帐户", "户口", "戶口", "卡號",
    "卡号",
)  # fmt: skip
# Bare account words name a bank account only beside a bank, a number label or a transfer:
# "my Facebook account 100012345678" is a profile id.
_BARE_ACCOUNT = frozenset({"account", "acct", "acc"})
_BANK_CONTEXT = re.compile(
    r"bank|transfer|deposit|pay|bayar|pindah|轉帳|轉賬|转账|转帐|匯款|汇款|入數|入钱|入錢"
    r"|銀行|银行"
)
# Just before the label, or in it: the victim's own account ("from my Maybank", "akaun saya").
_OWN_BEFORE = re.compile(r"(?:(?<![a-z])(?:my|my own|mine|from my)|我的|我嘅|本人)\s*$")
_OWN_WORDS = frozenset({"saya", "aku", "ku"})
# Calling the bank, just before its name or between the name and the number: a bank's line
# ("i call BDO 8631-8000", "打过BPI 889-10000", "Maybank hotline 1300 88 6688").
_CALL_WORDS = re.compile(
    r"(?<![a-z])(?<!video )(?<!video-)(?:call|called|calling|rang|ring|phoned|hotline|helpline"
    r"|line|customer service"
    r"|cs|contact|tel|phone|hubungi|telefon|talian|tawag|tinawagan|nag-call)(?![a-z])"
    r"|打過|打过|打給|打给|致電|致电|熱線|热线|客服|電話|电话"
)
# A bank's or branch's own code beside the number (a routing, sort, IFSC or BSB code):
# the same for every customer of the branch, so it never links.
_BRANCH_CODE = re.compile(r"routing|aba|ifsc|bsb|sort code|swift|branch|transit|分行|支行")


# A run of digit groups, long enough for an account number: found first (what reports hold
# far fewer of than words), then the label is looked for just before it.
_DIGIT_RUN = re.compile(r"\d(?<!\d\d)[\d \-]{6,}\d")  # a digit first: skipped fast
_LABEL_REACH = 40  # characters before a run where its label (and connecting words) may be


@lru_cache(maxsize=1)
def _bank_label() -> tuple[re.Pattern[str], dict[str, str], dict[str, list[str]]]:
    """The label that ends just before an account number (a bank's name and/or an account
    word, then connecting words, on lowered text), each lowered bank name's spelling
    (upper-case short names match only in capitals) and its regions."""
    from ringtrace.indicators.roles import trie_pattern

    text = resources.files("ringtrace.indicators").joinpath("data/banks.json").read_text()
    regions = json.loads(text)["regions"]
    names = {n.lower(): n for banks in regions.values() for n in banks}
    where: dict[str, list[str]] = {}
    for region, banks in regions.items():
        for n in banks:
            where.setdefault(n.lower(), []).append(region)
    connector = (
        r"(?:\s*(?:number|nombor|nomor|num|no\.?|#|:|：|=|,|，|is|saya|aku|ku|號碼|号码|是|-)"
        r"\s*){0,3}"
    )
    bank = rf"(?P<bank>{trie_pattern(list(names), r'(?![a-z])')})"
    acct = trie_pattern(list(_ACCOUNT_WORDS), r"(?![a-z])")
    # A bank's name, an account word, or both: never neither (most positions fail at once).
    # A region may follow the name ("BOC HK account", "Citi SG"); not the codes that are
    # words too ("my", "in", "us", "id").
    region = r"(?:\s+(?:hk|sg|tw|ph|au|uk|cn|hong kong|singapore|malaysia))?"
    label = rf"(?:{bank}{region}\s*(?:[(:：-]\s*)?(?P<acct>{acct})?|(?P<acct_only>{acct}))"
    first = "".join(sorted({re.escape(n[0]) for n in [*names, *_ACCOUNT_WORDS]}))
    pattern = re.compile(rf"(?=[{first}])(?<![a-z0-9]){label}{connector}\s*$")
    return pattern, names, where


_ACCOUNT_BEFORE = re.compile(r"(?:account|acct|acc|a/c|akaun|rekening)\s*(?:no\.?\s*)?$")


@lru_cache(maxsize=1)
def _bank_after_pattern() -> re.Pattern[str]:
    """A bank's name in brackets just after a number ("transfer to 2587238938 (Chase)")."""
    from ringtrace.indicators.roles import trie_pattern

    return re.compile(rf"\s*[(（]\s*({trie_pattern(sorted(bank_names()), r'(?![a-z])')})\s*[)）]")


def _bank_after(low: str, run: re.Match[str], banks: re.Pattern[str]) -> Candidate | None:
    """The account of "transfer to 2587238938 (Chase)": a bank named in brackets after the
    number, with a transfer or payment just before it and no call."""
    after = banks.match(low, run.end())
    if after is None:
        return None
    before = low[max(0, run.start() - 40) : run.start()]
    if not _BANK_CONTEXT.search(before) or _CALL_WORDS.search(before):
        return None
    found = _account_digits(run.group(0))
    if found is None:
        return None
    digits, taken = found
    name = _bank_label()[1][after.group(1)]
    start = run.start()
    return Candidate(
        "bank_account", digits, taken, start, start + len(taken), {"bank": name}, container=True
    )


def bank_names() -> frozenset[str]:
    """Every bank name of ``data/banks.json``, lowered."""
    return frozenset(_bank_label()[1])


def _account_digits(raw: str) -> tuple[str, str] | None:
    """The account number in a run of digit groups (8 to 20 digits) and the part of the run
    it takes: a first group of eight digits or more is the number on its own (what follows a
    space is an amount or a date); shorter groups are joined."""
    groups = re.findall(r"\d+|[ \-]", raw)
    if len(groups[0]) >= 8 and " " in raw[: len(groups[0]) + 1]:
        taken = groups[0]
    else:
        taken = ""
        for g in groups:
            if g.isdigit() and sum(c.isdigit() for c in taken) + len(g) > 20:
                break
            taken += g
        taken = taken.rstrip(" -")
    digits = "".join(str(unicodedata.decimal(c)) for c in taken if c.isdigit())
    if not 8 <= len(digits) <= 20 or len(set(digits)) == 1:
        return None
    return digits, taken


@text_extractor
class BankAccountTextExtractor:
    """A bank account written in free text: a number after a bank's name ("pay into BCA
    3380978251", "轉帳到中國信託 822-5401-2233-45") or an account word ("akaun 5641 2233
    8890", "transfer to account no 12345678"). The number is the key, as in a structured
    payment, so a narrative and a payment record of the same account link. A number after
    a bank's name alone that is a valid phone number is left to the phone extractor (a
    bank's line); one the victim calls their own is the victim's."""

    name = "bank-account"
    version = VERSION

    def extract(self, text: str, ctx: Context) -> Iterable[Candidate]:
        low: str | None = None
        for run in _DIGIT_RUN.finditer(text):
            if low is None:
                low = lowered(text)
                label, names, where = _bank_label()
                banks = _bank_after_pattern()
            m = label.search(low, max(0, run.start() - _LABEL_REACH), run.start())
            if m is None:
                after = _bank_after(low, run, banks)
                if after is not None:
                    yield after
                continue
            bank = m.group("bank")
            written = text[m.start("bank") : m.end("bank")] if bank else ""
            acct = m.group("acct") or m.group("acct_only")
            if bank and names[bank].isupper() and not written.isupper():
                # "ing", "nab" in prose: a word, not ING or NAB; after an account word it is
                # the bank ("account cimb 930583248433").
                before_bank = _ACCOUNT_BEFORE.search(low, max(0, m.start() - 14), m.start())
                if before_bank is not None:
                    acct = acct or before_bank.group(0).strip()
                elif _BANK_CONTEXT.search(low, max(0, m.start() - 40), m.start()):
                    pass  # "payment was to be made to cimb 930583248433"
                else:
                    bank = None
                    if not acct:
                        continue
            if not bank and acct in _BARE_ACCOUNT:
                # Without a bank, a bare "account" needs a number label or a transfer nearby.
                around = low[max(0, m.start() - 60) : run.start()]
                if (
                    not _BANK_CONTEXT.search(around)
                    and not re.search(r"no\.?|number|#", around)
                    and banks.match(low, run.end()) is None  # "account 0242305561 (commbank)"
                ):
                    continue
            found = _account_digits(run.group(0))
            if found is None:
                continue
            digits, taken = found
            start = run.start()
            if _BRANCH_CODE.search(low, max(0, m.start() - 16), start + len(taken) + 12):
                continue
            if _CALL_WORDS.search(low, max(0, m.start() - 24), start):
                continue  # the bank's line, whatever its digits look like
            if not acct and re.search(r"number|nombor|nomor|號碼|号码", low[m.end("bank") : start]):
                continue  # "the BDO number 8631-8000": a phone number, whatever its form
            if not acct and any(
                written_as_phone(taken, c) for c in (ctx.country, *where.get(bank or "", ()))
            ):
                # "called Maybank 1300 88 6688": the bank's line, a phone number of the
                # reporter's country or of the bank's
                continue
            attrs = {"bank": names[bank]} if bank else {}
            label_words = set(low[m.start() : start].split())
            if _OWN_BEFORE.search(low, max(0, m.start() - 12), m.start()) or (
                label_words & _OWN_WORDS
            ):
                attrs["own"] = "victim"
            yield Candidate(
                "bank_account", digits, taken, start, start + len(taken), attrs, container=True
            )
