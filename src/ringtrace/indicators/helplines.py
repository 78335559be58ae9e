"""Official, police, crisis and bank fraud numbers that victims mention ("I called the police
hotline"). They are shared by unrelated victims and never link reports.

One versioned data file per region in ``data/helplines/`` lists each number as the
organisation publishes it, with its sources. Numbers are matched after normalisation to
E.164, so every written form a victim uses (local, international, spaced, dashed, full-width
digits) matches the one entry. Short codes (999, 18222, 1930) are kept too: they are not
phone numbers that can link, but a structured field may hold one.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import phonenumbers


@dataclass(frozen=True)
class HelpLine:
    region: str
    number: str  # as published
    kind: str  # emergency | police | crisis | bank | official
    name: str


@dataclass(frozen=True)
class HelpLines:
    versions: dict[str, str]  # region -> data version
    by_e164: dict[str, HelpLine]
    short: dict[tuple[str, str], HelpLine]  # (region, digits) -> entry
    # National digits (with and without the trunk prefix) -> entry, for a listed number
    # written in its national form by a reporter from another region.
    national: dict[str, tuple[str, HelpLine]]  # -> (E.164, entry)


def _e164(number: str, region: str) -> str | None:
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


@lru_cache(maxsize=1)
def helplines() -> HelpLines:
    folder = resources.files("ringtrace.indicators").joinpath("data/helplines")
    versions: dict[str, str] = {}
    by_e164: dict[str, HelpLine] = {}
    short: dict[tuple[str, str], HelpLine] = {}
    national: dict[str, tuple[str, HelpLine]] = {}
    for item in sorted(folder.iterdir(), key=lambda p: p.name):
        if not item.name.endswith(".json"):
            continue
        data = json.loads(item.read_text(encoding="utf-8"))
        region = data["region"]
        versions[region] = data["version"]
        for n in data["numbers"]:
            entry = HelpLine(region, n["number"], n["kind"], n["name"])
            e164 = _e164(n["number"], region)
            digits = "".join(c for c in n["number"] if c.isdigit())
            if e164 is not None:
                by_e164.setdefault(e164, entry)
                nsn = str(phonenumbers.parse(e164).national_number)
                for form in {digits, nsn}:
                    if len(form) >= _NATIONAL_MIN_DIGITS:
                        national.setdefault(form, (e164, entry))
            short.setdefault((region, digits), entry)
    return HelpLines(versions, by_e164, short, national)


# A national form shorter than this (a short code, a 6-digit line) is read only in its own
# region: too many ordinary numbers elsewhere share so few digits.
_NATIONAL_MIN_DIGITS = 7


def helpline(e164: str) -> HelpLine | None:
    """The help line a normalised number is, if any."""
    return helplines().by_e164.get(e164)


_NON_DIGITS = re.compile(r"[^0-9]")


@lru_cache(maxsize=1)
def written_lengths() -> frozenset[int]:
    """How many digits a listed line in its national form can have (with a country code
    written without "+", up to three more): a cheap test before :func:`written`."""
    lengths = {len(k) for k in helplines().national}
    return frozenset(n + extra for n in lengths for extra in range(4))


def written(raw: str) -> tuple[str, HelpLine] | None:
    """A listed help line of any region written in its national form (``6389 2222``,
    ``03-6204 7788``): victims quote their bank's or a crisis line's number as they read it,
    and the reporter's country, the only region hint the phone extractor has, may not be the
    line's. A number written with ``+`` or ``00`` is international: its E.164 form decides.
    Returns the line's E.164 form and its entry."""
    text = raw.strip()
    if text.startswith(("+", "00", "＋")):
        return None
    if text.isascii():
        digits = _NON_DIGITS.sub("", text)
    else:
        digits = "".join(str(int(c)) for c in text if c.isdigit())
    national = helplines().national
    found = national.get(digits)
    if found is not None or digits[:1] in ("", "0"):
        return found
    # The country code written without "+" ("62-150-0888" for Halo BCA's 1500888).
    for n in (1, 2, 3):
        rest = national.get(digits[n:])
        cc = int(digits[:n]) if digits[:n] else 0
        if rest is not None and phonenumbers.region_code_for_country_code(cc) == rest[1].region:
            return rest
    return None


def short_code(raw: str, region: str | None) -> HelpLine | None:
    """A help line written as a short code (``999``, ``１８２２２``) in ``region``."""
    digits = "".join(str(int(c)) for c in raw if c.isdigit())
    if not digits or len(digits) > 6 or region is None:
        return None
    return helplines().short.get((region.upper(), digits))


def reason(entry: HelpLine) -> str:
    return (
        f"an official or help line ({entry.name}, {entry.region}): victims call it, "
        "so it never links reports"
    )
