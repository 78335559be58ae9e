"""Messaging and social-media handles given as typed identifiers.

A handle is normalised to the form the platform itself treats as one account: without the
``@``, without the profile-link prefix, lower case.
"""

from __future__ import annotations

import re

from ringtrace.indicators.phones import normalise_phone
from ringtrace.indicators.registry import (
    Candidate,
    Context,
    IdentifierNormaliser,
    identifier_normaliser,
)

VERSION = "1"

# Profile-link prefixes per platform; a value given as a link is reduced to the handle.
_LINK_PREFIXES: dict[str, tuple[str, ...]] = {
    "telegram": ("t.me/", "telegram.me/", "telegram.dog/"),
    "instagram": ("instagram.com/",),
    "facebook": ("facebook.com/", "fb.com/", "m.facebook.com/", "fb.me/"),
    "snapchat": ("snapchat.com/add/",),
    "tiktok": ("tiktok.com/@", "tiktok.com/"),
    "x": ("x.com/", "twitter.com/"),
    "line": ("line.me/ti/p/~", "line.me/ti/p/"),
    "skype": ("join.skype.com/invite/",),
    "discord": ("discord.com/users/",),
    "wechat": (),
    "kakaotalk": ("open.kakao.com/o/",),
}
_HANDLE = re.compile(r"^[a-z0-9](?:[a-z0-9._\-]{0,63})$")
_PLACEHOLDERS = frozenset(
    {"unknown", "n/a", "na", "none", "null", "nil", "-", "anonymous", "deleted", "user", "test"}
)


def normalise_handle(platform: str, raw: str) -> str | None:
    value = raw.strip()
    value = re.sub(r"^(?:https?://)?(?:www\.)?", "", value, flags=re.I)
    lowered = value.lower()
    for prefix in _LINK_PREFIXES.get(platform, ()):
        if lowered.startswith(prefix):
            value = value[len(prefix) :]
            break
    value = value.split("?", 1)[0].rstrip("/").lstrip("@").lower()
    if platform == "skype":
        value = value.removeprefix("live:")
    if not _HANDLE.match(value) or value in _PLACEHOLDERS:
        return None
    return value


def _as_phone(raw: str, ctx: Context) -> list[Candidate]:
    # Telegram, Line, WeChat and KakaoTalk accounts are often given as the phone number
    # behind them; that number is the stronger link key.
    if sum(c.isdigit() for c in raw) < 7 or any(c.isalpha() for c in raw):
        return []
    phone = normalise_phone(raw, ctx.country)
    return [] if phone is None else [Candidate("phone", phone[0], raw, 0, len(raw), phone[1])]


def _handle_normaliser(platform: str) -> IdentifierNormaliser:
    def normaliser(raw: str, ctx: Context) -> list[Candidate]:
        as_phone = _as_phone(raw, ctx)
        if as_phone:
            return as_phone
        value = normalise_handle(platform, raw)
        return [] if value is None else [Candidate(platform, value, raw, 0, len(raw))]

    return normaliser


for _platform in _LINK_PREFIXES:
    identifier_normaliser(_platform, name="handle", version=VERSION)(_handle_normaliser(_platform))
