"""Messaging and social-media handles given as typed identifiers.

A handle is normalised to the form the platform itself treats as one account: without the
``@``, without the profile-link prefix, lower case.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ringtrace.indicators.phones import normalise_phone
from ringtrace.indicators.registry import (
    Candidate,
    Context,
    IdentifierNormaliser,
    identifier_normaliser,
    lowered,
    text_extractor,
)

VERSION = "5"

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
# A leading "_" is allowed (Instagram, TikTok and X handles may start with one: "_clara.yap_").
_HANDLE = re.compile(r"^(?=_*[a-z0-9])[a-z0-9_](?:[a-z0-9._\-]{0,63})$")
# Placeholders, and role names that impersonators everywhere use ("Telegram ID: support"):
# no one account.
_PLACEHOLDERS = frozenset(
    {"unknown", "n/a", "na", "none", "null", "nil", "-", "anonymous", "deleted", "user", "test",
     "admin", "administrator", "support", "helpdesk", "official", "customerservice",
     "customer_service", "cs"}
)  # fmt: skip


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


# Profile links in text: the handle is the link key, found inside the URL the URL extractor
# also reports (hence ``inside_ok``).
_SOCIAL_LINK = re.compile(
    r"(?<![A-Za-z0-9.])(?:https?://|hxxps?://)?(?:www\.|m\.)?"
    r"(?P<host>t\.me|telegram\.me|telegram\.dog|instagram\.com|facebook\.com|fb\.com|"
    r"snapchat\.com/add|tiktok\.com/@|tiktok\.com|x\.com|twitter\.com|line\.me/ti/p/~?|"
    r"discord\.com/users|open\.kakao\.com/o)/?(?P<handle>[A-Za-z0-9_][A-Za-z0-9._\-]{1,63})",
    re.IGNORECASE,
)
_SOCIAL_HOSTS = re.compile(
    r"t\.me/|telegram\.(?:me|dog)/|instagram\.com/|facebook\.com/|fb\.com/|snapchat\.com/|"
    r"tiktok\.com/|x\.com/|twitter\.com/|line\.me/|discord\.com/|kakao\.com/"
)
_HOST_PLATFORM = {
    "t.me": "telegram", "telegram.me": "telegram", "telegram.dog": "telegram",
    "instagram.com": "instagram", "facebook.com": "facebook", "fb.com": "facebook",
    "snapchat.com/add": "snapchat", "tiktok.com/@": "tiktok", "tiktok.com": "tiktok",
    "x.com": "x", "twitter.com": "x", "discord.com/users": "discord",
    "open.kakao.com/o": "kakaotalk", "line.me/ti/p": "line",
}  # fmt: skip


def _platform_of(host: str) -> str | None:
    """The platform a profile-link host names; every alternative of ``_SOCIAL_LINK``'s host
    group must have one (a test checks), and an unknown one is skipped, never a crash."""
    return _HOST_PLATFORM.get(host.lower().rstrip("/~"))


# Path words that are pages of the platform, not accounts.
_NOT_ACCOUNTS = frozenset(
    {"joinchat", "share", "login", "home", "explore", "p", "reel", "reels", "stories", "watch",
     "groups", "pages", "profile.php", "i", "intent", "search", "hashtag", "s", "addstickers",
     "c", "proxy", "socks", "help", "privacy", "about", "settings"}
)  # fmt: skip

# "Telegram: @name", "微信号：name", "line id: name", "카톡 아이디: name", "TG id - name",
# "Telegram id — name", "line id = name" (a dash or an equals sign is a label's separator too;
# a dash with a space on either side, so that "telegram-bot" is not one).
_PLATFORM_WORDS = {
    "telegram": (
        r"telegram|電報|电报|纸飞机|텔레그램|(?<![A-Za-z])tg(?![A-Za-z])|(?<![A-Za-z])tele(?![A-Za-z])"
    ),
    "instagram": r"instagram|(?<![A-Za-z])insta(?![A-Za-z])|(?<![A-Za-z])ig(?![A-Za-z])|인스타",
    "snapchat": r"snapchat|(?<![A-Za-z])snap(?![A-Za-z])|(?<![A-Za-z])sc(?![A-Za-z])",
    "tiktok": r"tiktok|抖音",
    # "X" only just before an "@" ("X: @name", "x @name"): the letter alone is a word.
    "x": r"twitter|x(?=\s*[:：]?\s*@)(?<![A-Za-z]x)",
    "line": r"(?<![A-Za-z])line(?![A-Za-z])",
    "wechat": r"wechat|weixin|微信|(?<![A-Za-z])vx(?![A-Za-z])|(?<![A-Za-z])wx(?![A-Za-z])",
    "kakaotalk": r"kakaotalk|kakao|카카오톡|카톡",
    "skype": r"skype",
    "discord": r"discord",
    "facebook": r"facebook|messenger|(?<![A-Za-z])fb(?![A-Za-z])",
}
_LABEL = (
    r"(?:\s*(?:id|ID|username|user\s*name|user|handle|account|profile(?:\s+(?:was|is))?"
    r"|帳號|账号|號|号|아이디|계정))?"
)
# The platform words as plain strings: finding them with str.find on the lowered text is far
# cheaper than a regex alternation; the full pattern is then tried only where one occurs.
_KEYWORDS: list[tuple[str, bool]] = []  # (word, needs ASCII-letter boundaries)
# Words with a lookahead ("x" before an "@"): one regex each, so that the letter's many
# occurrences in words are passed over in C.
_KEYWORD_PATTERNS: list[re.Pattern[str]] = []
for _alts in _PLATFORM_WORDS.values():
    for _alt in _alts.split("|"):
        if "(?=" in _alt:
            _KEYWORD_PATTERNS.append(re.compile(_alt))
            continue
        _word = _alt.replace("(?<![A-Za-z])", "").replace("(?![A-Za-z])", "")
        _KEYWORDS.append((_word, _word != _alt))


def _keyword_hits(low: str) -> list[int]:
    hits = []
    for word, bounded in _KEYWORDS:
        i = low.find(word)
        while i >= 0:
            end = i + len(word)
            if not bounded or (
                (i == 0 or not ("a" <= low[i - 1] <= "z"))
                and (end == len(low) or not ("a" <= low[end] <= "z"))
            ):
                hits.append(i)
            i = low.find(word, end)
    for pattern in _KEYWORD_PATTERNS:
        hits.extend(m.start() for m in pattern.finditer(low))
    return sorted(set(hits))


_LABELLED = re.compile(
    "|".join(
        rf"(?P<{p}>{words}){_LABEL}(?:\s*[:：=]\s*@?|\s+[-–—]{{1,2}}\s*@?|\s*[-–—]{{1,2}}\s+@?"
        rf"|[^\n@:：]{{0,12}}(?<![A-Za-z0-9._%+-])@"
        # a space alone before a name no word has ("telegram nina7151", "WeChat ID tina5116")
        rf"|\s+(?=[A-Za-z][A-Za-z0-9]*(?:[0-9]|[_.][A-Za-z0-9])))"
        rf"(?P<{p}_h>(?:live:)?[A-Za-z0-9_][A-Za-z0-9._\-]{{2,63}})"
        for p, words in _PLATFORM_WORDS.items()
    ),
    re.IGNORECASE,
)


_LABEL_WORD = re.compile(
    r"(?<![A-Za-z])(?:id|username|user\s*name|user|handle|account|profile)(?![A-Za-z])"
    r"|帳號|账号|號|号|아이디|계정",
    re.IGNORECASE,
)


def _supported(between: str, handle: str) -> bool:
    """Whether what follows a platform's name is shown to be a handle, not a word of the
    sentence ("Telegram: Fake crowdsale site"): an ``@``, a label ("Telegram ID:"), or a
    pattern no dictionary word has (digits, ``_``, ``.``, mixed case after the first letter).
    """
    if "@" in between or _LABEL_WORD.search(between):
        return True
    if any(c.isdigit() or c in "_." for c in handle):
        return True
    return any(c.isupper() for c in handle[1:]) and any(c.islower() for c in handle)


@text_extractor
class SocialLinkExtractor:
    """Accounts named by their profile links (t.me/name, instagram.com/name, ...)."""

    name = "social-link"
    version = VERSION

    def extract(self, text: str, ctx: Context) -> Iterable[Candidate]:
        low = lowered(text)
        if not _SOCIAL_HOSTS.search(low):
            return
        for m in _SOCIAL_LINK.finditer(text):
            platform = _platform_of(m.group("host"))
            if platform is None:
                continue
            handle = m.group("handle").rstrip(".")
            if handle.lower() in _NOT_ACCOUNTS:
                continue
            value = normalise_handle(platform, handle)
            if value is None:
                continue
            start = m.start("handle")
            yield Candidate(
                platform, value, handle, start, start + len(handle), {"from_link": "true"},
                inside_ok=True,
            )  # fmt: skip


# The handle first, then its platform: "@nina7151 on telegram", "@bella.vip di ig",
# "account sofia.li_ on instagram" (without an @, only a name no word has).
_HANDLE_ON = re.compile(  # read in the lowered text: IGNORECASE is slow on Unicode text
    r"(?=[@aup])(?:(?<![a-z0-9._%+-])(?P<at>@)|(?<![a-z])(?:account|user|profile)\s+)"
    r"(?P<h>(?(at)[a-z0-9_]|[a-z0-9])[a-z0-9._]{2,31})\s+(?:on|at|in|di|sa|kat|via)\s+"
    r"(?P<p>telegram|tele|tg|instagram|insta|ig|snapchat|snap|tiktok|twitter|line|wechat"
    r"|kakaotalk|kakao|discord|facebook|fb)(?![a-z])"
)
_ON_PLATFORM = {
    "tele": "telegram", "tg": "telegram", "insta": "instagram", "ig": "instagram",
    "snap": "snapchat", "twitter": "x", "kakao": "kakaotalk", "fb": "facebook",
}  # fmt: skip


@text_extractor
class LabelledHandleExtractor:
    """Handles written after the platform's name: ``Telegram @name``, ``微信：name``."""

    name = "labelled-handle"
    version = VERSION

    def extract(self, text: str, ctx: Context) -> Iterable[Candidate]:
        pos = 0
        low = lowered(text)
        hits = _keyword_hits(low)
        for hit in hits:
            if hit < pos:
                continue
            m = _LABELLED.match(text, hit)
            if m is None:
                continue
            pos = m.end()
            platform = m.lastgroup or ""
            platform = platform.removesuffix("_h")
            handle = m.group(f"{platform}_h")
            if handle is None:
                continue
            handle = handle.rstrip(".-")  # a trailing "_" is part of a handle ("bella_")
            value = normalise_handle(platform, handle)
            if value is None or value.isdigit():
                continue  # a number after "WeChat:" is the phone, which the phone extractor takes
            start = m.start(f"{platform}_h")
            between = text[m.end(platform) : start]
            attrs = {} if _supported(between, handle) else {"support": "none"}
            yield Candidate(platform, value, handle, start, start + len(handle), attrs)
        if not hits:
            return  # "@name on <platform>" names a platform, which is a keyword hit
        for m in _HANDLE_ON.finditer(low):
            word = m.group("p")
            platform = _ON_PLATFORM.get(word, word)
            handle = text[m.start("h") : m.end("h")].rstrip(".")
            if not m.group("at") and not any(c.isdigit() or c in "_." for c in handle):
                continue  # "account settings on instagram": a word, not shown to be a handle
            value = normalise_handle(platform, handle)
            if value is not None and not value.isdigit():
                start = m.start("h")
                yield Candidate(platform, value, handle, start, start + len(handle))
