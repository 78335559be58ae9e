"""Phone numbers, normalised to E.164 with :mod:`phonenumbers`.

The only region hint is the reporter's own country: a number written without a country code
is read as a number of the victim's country, never guessed from anything else. Without a
country, only numbers written with ``+`` or ``00`` are taken.

Text is scanned with one linear regex for digit runs (any Unicode decimal digits, with
spaces, dots, dashes and brackets between), and each run is then validated by
``phonenumbers``. That is several times faster than ``PhoneNumberMatcher`` and lets us reject
dates, amounts and labelled ids that a phone matcher would accept.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import NamedTuple

import phonenumbers
from phonenumbers import phonenumberutil

from ringtrace.indicators import helplines
from ringtrace.indicators.gated import Gated
from ringtrace.indicators.registry import (
    Candidate,
    Contained,
    Context,
    identifier_normaliser,
    text_extractor,
)

VERSION = "3"

_SEP = r"[ \u00a0\u3000\-.()（）/－‐‑–]"  # with the full-width and typographic dashes
# A run of digits and separators; ``\d`` matches every Unicode decimal digit (full-width,
# Devanagari, Tamil, ...). Boundaries use ASCII letters only, so CJK text may touch a number.
# The lookahead names the characters a run can start with: the engine rejects other
# positions at once (see network._URL_RE).
_RUN = re.compile(
    rf"(?=[+＋(\d])(?<![0-9A-Za-z+＋\d])(?P<plus>[+＋]\s?|\(\+|00|００)?\(?\d(?:\d|{_SEP}){{5,24}}\d(?![\dA-Za-z])"
)
# Searched through a gate (indicators/gated.py): a first character at a run's start and the
# six more characters of a run (the shortest is seven long).
_RUN_SCAN = Gated(_RUN, r"[+＋(\d](?<![0-9A-Za-z+＋\d][+＋(\d])[\d\s+＋()（）\-./－‐‑–]{6}")
# Digits that could extend a run past where it ended (the run's length limit cut it short).
_NEXT_GROUP = re.compile(r"\d{2,8}(?![\dA-Za-z])")
_CONTINUES = re.compile(rf"{_SEP}*\d")
_GROUP_END = re.compile(rf"\d(?={_SEP}|$)")
_DATE = re.compile(
    r"^(?:\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{2,4}|\d{4}[-./]\d{1,2})$"
)
# A date and the hour of a time ("13-07-2024 21" of "13-07-2024 21:45"): the run stops at
# the colon, and what it holds is a timestamp.
_DATE_HOUR = re.compile(
    r"^(?:\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{2,4})[ \u00a0T]+\d{1,2}$"
)
# Words that, just before a number, say it is not a phone number.
_ID_LABELS = re.compile(  # matched against the lowered text just before a number
    r"(?:order|ref|reference|invoice|txn|transaction|tracking|otp|pin|code|id|no\.?|#|"
    r"account|acct|a/c|iban|mtcn|control|card|serial|case|report|amount|total|"
    r"hkd|sgd|usd|myr|inr|krw|twd|gbp|eur|rm|rs\.?|[$€£¥₹₩元])\s*[:：#.]?\s*$"
)
_AMOUNT_AFTER = re.compile(
    r"^\s*(?:hkd|sgd|usd|myr|inr|krw|twd|gbp|eur|usdt|btc|dollars?|元|萬|万|원|rupees?)\b",
    re.IGNORECASE,
)
# wa.me/<number>, api.whatsapp.com/send?phone=<number>: WhatsApp's click-to-chat links.
_WA = r"(?:https?://)?(?:(?:api\.)?wa\.me|(?:api\.|web\.|www\.)?whatsapp\.com)/(?:send/?\?phone=)?"
_WA_ME = re.compile(rf"{_WA}\+?(\d{{6,15}})", re.I)


# Lines businesses and help services run, by libphonenumber's number type (the region's
# numbering plan, not a list of numbers): 1-800, 0800, 1300, 0845, 1800 ... An offender is
# reached on a mobile or a chat app, while every victim may call such a line.
SHARED_LINE_TYPES = {
    phonenumbers.PhoneNumberType.TOLL_FREE: "toll_free",
    phonenumbers.PhoneNumberType.SHARED_COST: "shared_cost",
    phonenumbers.PhoneNumberType.UAN: "uan",
}


class _Number(NamedTuple):
    """A valid number: E.164, its region and, for a toll-free, shared-cost or
    universal-access line, its line type."""

    e164: str
    region: str
    line: str | None

    def attributes(self) -> dict[str, str]:
        return {"region": self.region}

    def text_attributes(self) -> dict[str, str]:
        """In free text, also ``line_type`` (read by the roles, never stored)."""
        if self.line is None:
            return {"region": self.region}
        return {"region": self.region, "line_type": self.line}


# libphonenumber's own type reader and code-to-regions table: is_valid_number,
# region_code_for_number and number_type each read the number's type again (two to five
# passes over the region's patterns, most of a phone's cost); reading it once gives all
# three. Private, so the public calls stand in if either is ever renamed;
# tests/test_extract.py checks both ways give what the public calls give, on every region.
_TYPE_OF = (
    getattr(phonenumberutil, "_number_type_helper", None)
    if isinstance(getattr(phonenumberutil, "COUNTRY_CODE_TO_REGION_CODE", None), dict)
    else None
)


def _valid(number: phonenumbers.PhoneNumber) -> _Number | None:
    """What a parsed number is, when it is valid (exactly ``is_valid_number``)."""
    if _TYPE_OF is None:
        return _valid_public(number)
    cc = number.country_code
    regions = phonenumberutil.COUNTRY_CODE_TO_REGION_CODE.get(cc) if cc is not None else None
    if cc is None or not regions:
        return None
    nsn = phonenumbers.national_significant_number(number)
    region, kind = None, None
    if len(regions) == 1:
        region = regions[0]
    else:
        # region_code_for_number's choice among the regions of a shared code (+1, +44, +7),
        # keeping the type it read on the way instead of reading it again.
        for candidate in regions:
            meta = phonenumbers.PhoneMetadata.metadata_for_region(candidate.upper(), None)
            if meta is None:
                continue
            if meta.leading_digits is not None:
                if re.match(meta.leading_digits, nsn):
                    region = candidate
                    break
            else:
                kind = _TYPE_OF(nsn, meta)
                if kind != phonenumbers.PhoneNumberType.UNKNOWN:
                    region = candidate
                    break
                kind = None
        if region is None:
            return None
    if kind is None:
        meta = phonenumbers.PhoneMetadata.metadata_for_region_or_calling_code(cc, region)
        if meta is None or (
            region != phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY
            and cc != phonenumbers.country_code_for_valid_region(region)
        ):
            return None
        kind = _TYPE_OF(nsn, meta)
        if kind == phonenumbers.PhoneNumberType.UNKNOWN:
            return None
    return _Number(f"+{cc}{nsn}", region, SHARED_LINE_TYPES.get(kind))


def _valid_public(number: phonenumbers.PhoneNumber) -> _Number | None:
    """:func:`_valid` through the public calls (each reads the type again)."""
    region = phonenumbers.region_code_for_number(number)
    if region is None or not phonenumbers.is_valid_number_for_region(number, region):
        return None
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    line = SHARED_LINE_TYPES.get(phonenumbers.number_type(number))
    return _Number(str(e164), region, line)


@lru_cache(maxsize=32768)
def _parse(raw: str, country: str | None) -> _Number | None:
    text = raw.strip().lstrip("(")
    if text.startswith(("00", "００")):
        text = "+" + text[2:]
    text = text.replace("＋", "+")
    if not text.startswith("+"):
        if country is None:
            return None
        lengths = _national_lengths(country)
        digits = sum(c.isdigit() for c in text)
        # A national number has one of the region's lengths, or one more (trunk prefix "0").
        if lengths and digits not in lengths and digits - 1 not in lengths:
            return None
    try:
        number = phonenumbers.parse(text, country)
    except phonenumbers.NumberParseException:
        return None
    return _valid(number)


@lru_cache(maxsize=512)
def _national_lengths(region: str) -> frozenset[int]:
    """Possible national-number lengths of a region, from libphonenumber's metadata."""
    meta = phonenumbers.PhoneMetadata.metadata_for_region(region.upper())
    if meta is None or meta.general_desc is None:
        return frozenset()
    return frozenset(meta.general_desc.possible_length or ())


def normalise_phone(raw: str, country: str | None) -> tuple[str, dict[str, str]] | None:
    """E.164 and attributes of a number given on its own, or None if it is not valid."""
    m = _WA_ME.search(raw)
    text = "+" + m.group(1) if m else " ".join(raw.split())  # one value, even across lines
    number = _parse(text, country)
    return None if number is None else (number.e164, number.attributes())


# A run that starts with a country calling code and a space or a dash, without "+" or "00"
# ("852 9447 0011", "63 995 544 6405", "91 98765 43210"): how many victims copy a number
# from a chat app's profile.
_UNMARKED_CODE = re.compile(r"([1-9]\d{0,2})[ \-]\d")
_MOBILE_TYPES = frozenset(
    {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}
)


def _unmarked_international(run: str) -> tuple[int, _Number] | None:
    """The longest prefix of whole digit groups of ``run`` that is a valid mobile number
    when read as written with "+" before it, and where it ends; None when the run does not
    start with a calling code. Mobile only: an offender is reached on one, and a landline
    reading of a stray run of digits is too easy to fall into."""
    m = _UNMARKED_CODE.match(run)
    if m is None or int(m.group(1)) not in phonenumberutil.COUNTRY_CODE_TO_REGION_CODE:
        return None
    for end in _prefixes(run):
        if sum(c.isdigit() for c in run[:end]) < 8:
            return None
        number = _parse("+" + run[:end], None)
        if number is None or number.line is not None:
            continue
        kind = phonenumbers.number_type(phonenumbers.parse(number.e164, None))
        return (end, number) if kind in _MOBILE_TYPES else None
    return None


def _trunk_missing(raw: str, number: _Number) -> bool:
    """Whether a national reading lacks the trunk prefix its region writes numbers with
    ("85294470011" read as Indonesian, where a mobile is written 0852…); North America's
    1 is left out in writing, and regions without one never miss it."""
    meta = phonenumbers.PhoneMetadata.metadata_for_region(number.region)
    prefix = meta.national_prefix if meta is not None else None
    if not prefix or prefix == "1":
        return False
    return not raw.lstrip(" (").startswith(prefix)


def _prefixes(run: str) -> Iterator[int]:
    """End offsets of the digit groups of a run, longest first."""
    ends = [m.end() for m in _GROUP_END.finditer(run)]
    return reversed(ends)


@text_extractor
class PhoneExtractor:
    name = "phone"
    version = VERSION

    # report.scan_text runs this extractor after the others and says which spans lie inside
    # their containers (IP addresses, IBANs, URLs, ...).
    after_containers = True

    def extract(
        self, text: str, ctx: Context, contained: Contained | None = None
    ) -> Iterable[Candidate]:
        pos = 0
        while True:
            m = _RUN_SCAN.search(text, pos)
            if m is None:
                return
            start, run = m.start(), m.group(0)
            if (
                contained is not None
                and contained(start, m.end())
                and not _CONTINUES.match(text, m.end())
            ):
                # What this run could yield lies inside another extractor's container (the
                # digits of an IP address or an IBAN), where report._resolve_overlaps would
                # drop it: spare phonenumbers the work. No later run can reach past it.
                pos = m.end()
                continue
            found = _read_run(text, m, ctx)
            if found is not None:
                yield found
            found_end = found.end if found is not None else None
            if found_end is None and m.group("plus") and text.startswith("\n", m.end()):
                # An international number cut by a line break ("+65 9062\n9232"): the run
                # alone is too short to be valid, so read the next line's first group with it.
                nxt = _NEXT_GROUP.match(text, m.end() + 1)
                number = _parse(f"{run} {nxt.group(0)}", ctx.country) if nxt else None
                if nxt is not None and number is not None:
                    raw = text[start : nxt.end()]
                    yield Candidate(
                        "phone", number.e164, raw, start, nxt.end(), number.text_attributes()
                    )
                    found_end = nxt.end()
            pos = (
                found_end
                if found_end is not None and found_end < m.end()
                else max(m.end(), found_end or 0)
            )


def _read_run(text: str, m: re.Match[str], ctx: Context) -> Candidate | None:
    """The number a run of digits found at ``m`` is, if any: the longest prefix of whole
    digit groups that is a valid number (a run may carry a year or an amount after it);
    none for a date, a timestamp or an id after a label."""
    start, run = m.start(), m.group(0)
    plus = bool(m.group("plus"))
    before = text[max(0, start - 24) : start].lower()
    timestamp = text.startswith(":", m.end()) and _DATE_HOUR.match(run)
    # A label says an id, unless the number is written with its country code.
    if _DATE.match(run.strip("()")) or timestamp or (not plus and _ID_LABELS.search(before)):
        return None
    unmarked_read = plus  # whether the reading without "+" was tried (never with one)
    for end in _prefixes(run):
        raw = run[:end]
        digits = sum(c.isdigit() for c in raw)
        if digits < 7 or digits > 17:
            continue
        if _AMOUNT_AFTER.match(text, start + end):
            return None
        number = _parse(raw, ctx.country)
        if not unmarked_read and (number is None or _trunk_missing(raw, number)):
            # Read as international when the national reading is invalid here or lacks the
            # trunk prefix its region is written with (read once, for the longest prefix).
            unmarked_read = True
            unmarked = _unmarked_international(run)
            if unmarked is not None and not _AMOUNT_AFTER.match(text, start + unmarked[0]):
                end, number = unmarked
                raw = run[:end]
        if number is not None:
            return Candidate(
                "phone", number.e164, raw, start, start + end, number.text_attributes()
            )
        # A listed help line of another region in its national form ("6389 2222" from an
        # Indian reporter): shown on the report as that line.
        listed = helplines.written(raw) if digits in helplines.written_lengths() else None
        if listed is not None:
            return Candidate(
                "phone", listed[0], raw, start, start + end, {"region": listed[1].region}
            )
    return None


@identifier_normaliser("phone", "whatsapp", name="phone", version=VERSION)
def _phone_identifier(raw: str, ctx: Context) -> list[Candidate]:
    norm = normalise_phone(raw, ctx.country)
    if norm is None:
        return []
    value, attrs = norm
    return [Candidate("phone", value, raw, 0, len(raw), attrs)]


_WA_TEXT = re.compile(rf"(?<![A-Za-z0-9.]){_WA}(?P<n>\+?\d{{6,15}})", re.I)


@text_extractor
class WhatsAppLinkExtractor:
    """``wa.me/85261234567`` links name a phone number (always in international form)."""

    name = "whatsapp-link"
    version = VERSION

    def extract(self, text: str, ctx: Context) -> Iterable[Candidate]:
        low = text.lower()
        if "wa.me" not in low and "whatsapp.com/" not in low:
            return
        for m in _WA_TEXT.finditer(text):
            raw = m.group("n")
            number = _parse(raw if raw.startswith("+") else "+" + raw, None)
            if number is not None:
                s = m.start("n")
                yield Candidate(
                    "phone",
                    number.e164,
                    raw,
                    s,
                    s + len(raw),
                    number.attributes(),
                    inside_ok=True,
                )


def written_as_phone(raw: str, country: str | None) -> bool:
    """Whether digits are written as a phone number would be: valid, and in international
    form, or a toll-free or shared-cost line, or with the region's trunk prefix ("03-7844
    3696" in Malaysia) where its numbers are written with one (not North America's 1).
    "3380978251" after an Indonesian bank's name is an account number: an Indonesian number
    is dialled with its leading 0."""
    number = _parse(raw, country)
    if number is None:
        return False
    text = raw.lstrip(" (")
    if text.startswith(("+", "＋", "00")) or number.line is not None:
        return True
    meta = phonenumbers.PhoneMetadata.metadata_for_region(number.region)
    prefix = meta.national_prefix if meta is not None else None
    # North America's trunk prefix 1 is left out in writing ("713-262-1679").
    return not prefix or prefix == "1" or text.startswith(prefix)
