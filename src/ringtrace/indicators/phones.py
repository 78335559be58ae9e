"""Phone numbers, normalised to E.164 with :mod:`phonenumbers`.

The only region hint is the reporter's own country: a number written without a country code
is read as a number of the victim's country, never guessed from anything else.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import phonenumbers

from ringtrace.indicators.registry import (
    Candidate,
    Context,
    identifier_normaliser,
    text_extractor,
)

VERSION = "1"

# "00" as the international prefix ("00852 6123 4567"). Replaced by " +" (same length, so
# spans are unchanged) before matching: most regions' own IDD prefix is not "00".
_DOUBLE_ZERO = re.compile(r"(?<![\d+])00(?=\s?[1-9])")
_WA_ME = re.compile(r"(?:https?://)?(?:api\.)?wa\.me/(?:send\?phone=)?\+?(\d{6,15})", re.I)


def _e164(number: phonenumbers.PhoneNumber) -> str:
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def _attributes(number: phonenumbers.PhoneNumber) -> dict[str, str]:
    region = phonenumbers.region_code_for_number(number)
    return {"region": region} if region else {}


def normalise_phone(raw: str, country: str | None) -> tuple[str, dict[str, str]] | None:
    """E.164 and attributes of a number given on its own, or None if it is not valid."""
    text = raw.strip()
    m = _WA_ME.search(text)
    if m:
        text = "+" + m.group(1)
    text = _DOUBLE_ZERO.sub(" +", text, count=1).strip()
    try:
        number = phonenumbers.parse(text, country)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return _e164(number), _attributes(number)


@text_extractor
class PhoneExtractor:
    name = "phone"
    version = VERSION

    def extract(self, text: str, ctx: Context) -> Iterable[Candidate]:
        if not any(c.isdigit() for c in text):
            return
        prepared = _DOUBLE_ZERO.sub(" +", text)
        matcher = phonenumbers.PhoneNumberMatcher(
            prepared, ctx.country, leniency=phonenumbers.Leniency.VALID
        )
        for m in matcher:
            start = m.start
            # A match that begins at a replaced "00" starts at the first zero in the raw text.
            if prepared[start] == "+" and text[start] == "0":
                start -= 1
            raw = text[start : m.end]
            yield Candidate("phone", _e164(m.number), raw, start, m.end, _attributes(m.number))


@identifier_normaliser("phone", "whatsapp", name="phone", version=VERSION)
def _phone_identifier(raw: str, ctx: Context) -> list[Candidate]:
    norm = normalise_phone(raw, ctx.country)
    if norm is None:
        return []
    value, attrs = norm
    return [Candidate("phone", value, raw, 0, len(raw), attrs)]
