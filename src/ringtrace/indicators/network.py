"""URLs, domains, emails and IP addresses, including defanged forms (``hxxp``, ``[.]``)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from urllib.parse import unquote, urlsplit

from ringtrace.indicators.gated import Gated
from ringtrace.indicators.hosting import PAGE, is_path_platform, page_key
from ringtrace.indicators.hosts import normalise_ip, normalise_url, refang, registrable_domain
from ringtrace.indicators.packages import looks_like_package
from ringtrace.indicators.registry import (
    Candidate,
    Context,
    identifier_normaliser,
    text_extractor,
)

VERSION = "2"


# Defanged separators seen in reports and threat feeds, matched on the original text so that
# spans stay true to what the victim wrote.
def _ci(word: str) -> str:
    """A case-insensitive pattern for an ASCII word without the IGNORECASE flag, which makes
    Python's regex engine much slower on the large Unicode classes below."""
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else re.escape(c) for c in word)


# " dot " spelled out between labels, as victims type a link they were told not to click.
_DOT = rf"(?:\.| ?\[\.\] ?|\(\.\)|\{{\.\}}|\[{_ci('dot')}\]|\({_ci('dot')}\)| {_ci('dot')} |．|。)"
_AT = rf"(?:@|\[@\]|\[{_ci('at')}\]|\({_ci('at')}\))"
_LCH = r"a-zA-Z0-9\u00c0-\u024f"
_LABEL = rf"[{_LCH}](?:[{_LCH}-]{{0,61}}[{_LCH}])?"
_HOST = rf"{_LABEL}(?:{_DOT}{_LABEL})+"
# The same with each label atomic: a label is followed by a dot or by what ends the host, and
# no dot starts with a label character, so giving back part of a label never helps a match.
# Scanning prose, the engine then drops a word at once instead of retrying it letter by letter.
_HOST_ATOMIC = rf"(?>{_LABEL})(?:{_DOT}(?>{_LABEL}))+"
# After a scheme, a host may be an internationalised name in any script (IDN).
_ULABEL_CHARS = (
    r"a-zA-Z0-9\u00c0-\u024f\u0370-\u03ff\u0400-\u04ff\u0590-\u06ff\u0900-\u0dff"
    r"\u0e00-\u0e7f\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af"
)
_ULABEL = rf"[{_ULABEL_CHARS}](?:[{_ULABEL_CHARS}-]{{0,61}}[{_ULABEL_CHARS}])?"
_UHOST = rf"{_ULABEL}(?:{_DOT}{_ULABEL})+"
_IPV4_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4 = rf"{_IPV4_OCTET}(?:{_DOT}{_IPV4_OCTET}){{3}}"
_SCHEME = r"(?:[hH][tTxX*]{2}[pP][sS]?|[fF][tTxX][pP])(?:://|\[://\]|\[:\]//)"
# A path runs to whitespace, quotes, brackets or the start of CJK / full-width text, which in
# a narrative is prose that follows the link rather than part of it.
_PATH_BODY = r"[^\s<>\"'`\u3000-\u303f\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uff00-\uffef]*"
_PATH = rf"[/?#]{_PATH_BODY}"

# Each scanning pattern starts with a lookahead for the characters a match can start with:
# the regex engine then rejects most positions of a text at once instead of trying the
# lookbehind and the alternatives there (the same matches, about 1.5x faster to scan).
_URL_RE = re.compile(
    rf"(?=[hHfFwW])(?<![a-zA-Z0-9@.])(?:{_SCHEME}(?:[^\s/@:?#]{{1,64}}(?::[^\s/@]{{0,64}})?@)?"
    rf"(?P<h1>{_IPV4}|{_UHOST}|\[[0-9a-fA-F:]+\])|(?P<h2>{_ci('www')}{_DOT}{_HOST}))"
    rf"(?P<port>:\d{{1,5}})?(?P<path>{_PATH})?"
)
_BARE_RE = re.compile(
    rf"(?<![a-zA-Z0-9@.\-_/])(?P<host>{_HOST_ATOMIC})(?P<port>:\d{{1,5}})?(?P<path>/{_PATH_BODY})?"
)
_EMAIL_RE = re.compile(
    rf"(?<![a-zA-Z0-9._%+-])(?P<local>(?>[a-zA-Z0-9][a-zA-Z0-9._%+-]{{0,63}})){_AT}"
    rf"(?P<host>{_HOST_ATOMIC})"
)
_IPV4_RE = re.compile(rf"(?=\d)(?<![A-Za-z0-9.])(?P<ip>{_IPV4})(?!\d|{_DOT}\d)")
_IPV6_RE = re.compile(
    r"(?=[0-9a-fA-F:])(?<![0-9a-fA-F:])(?P<ip>(?:[0-9a-fA-F]{0,4}:){2,7}[0-9a-fA-F]{0,4})(?![0-9a-fA-F:])"
)

# Each scan goes through a gate (indicators/gated.py): a pattern that starts with the match's
# possible first characters, checks the same boundary one character later and asks for a
# little more of what every match has, so the engine skips other positions at once.
_DOT_FIRST = r"(?:[.．。\[({]| [\[dD])"  # how every form of _DOT starts
_URL_SCAN = Gated(_URL_RE, r"[hHfFwW](?<![a-zA-Z0-9@.][hHfFwW])[tTxX*wW]")
_BARE_SCAN = Gated(  # a label at a word start, then a dot (and the next label) starts
    _BARE_RE,
    rf"[{_LCH}](?<![a-zA-Z0-9@.\-_/][{_LCH}])[{_LCH}-]{{0,62}}+"
    rf"(?:[.．。][{_LCH}]|[\[({{]| \[| [dD])",
)
_IPV4_SCAN = Gated(  # an octet at a number's start, then the first character of a dot
    _IPV4_RE, rf"\d(?<![A-Za-z0-9.]\d)\d{{0,2}}{_DOT_FIRST}"
)
_IPV6_SCAN = Gated(  # a group at its start, then a colon within five characters
    _IPV6_RE, r"[0-9a-fA-F:](?<![0-9a-fA-F:][0-9a-fA-F:])[0-9a-fA-F:]{0,4}:"
)

_TRAILING = ".,;:!?)]}>'\"“”’"
# Words that, before a spelled-out " dot ", say the text is prose, not a host.
_PROSE_WORDS = frozenset(
    {"the", "a", "an", "my", "this", "that", "your", "our", "his", "her", "its", "any", "one",
     "every", "no", "polka", "and", "or", "of", "to", "in", "on", "at", "it", "is"}
)  # fmt: skip
# Bare words that end in a real TLD but in a narrative are file names, not domains.
_FILE_LIKE_TLDS = frozenset({"zip", "mov", "py", "sh", "md", "rs", "pl", "apk", "exe", "jpg"})

__all__ = ["normalise_email", "normalise_ip", "normalise_url", "refang", "registrable_domain"]


def _strip_trailing(raw: str) -> str:
    while raw and raw[-1] in _TRAILING:
        # Keep a closing bracket that closes one opened inside the URL.
        if raw[-1] == ")" and raw.count("(") >= raw.count(")"):
            break
        raw = raw[:-1]
    return raw


def _page(url: str, raw: str, start: int, end: int) -> Iterator[Candidate]:
    """The page key of a URL on a path platform (a shortened link, a shared file, a form)."""
    parts = urlsplit(url)
    key = (
        page_key(parts.hostname, parts.path, parts.query, parts.fragment)
        if parts.hostname
        else None
    )
    if key is not None:
        yield Candidate(PAGE, key, raw, start, end)


def _host_candidates(host: str, raw: str, start: int, end: int) -> Iterator[Candidate]:
    ip = normalise_ip(host)
    if ip is not None:
        yield Candidate("ip", ip, raw, start, end)
        return
    # A file-sharing, form or shortener host (pan.baidu.com, form.typeform.com): its page is
    # the key, and its registrable domain is the platform's, shared by every user.
    if is_path_platform(host):
        return
    domain = registrable_domain(host)
    if domain is not None:
        attrs = {"host": host}
        if host.removeprefix("www.") != domain:
            attrs["inferred"] = "true"  # the parent of the link's own host: never strong alone
        yield Candidate("domain", domain, raw, start, end, attrs)


_EMBEDDED = re.compile(rf"https?://(?P<host>{_HOST})", re.IGNORECASE)


def _embedded(raw: str, start: int) -> Iterator[Candidate]:
    """Hosts of URLs carried inside another URL's path or query (redirectors, trackers):
    ``?url=http%3A%2F%2Fring.example%2F``. Their provenance is the whole outer URL."""
    tail = raw[raw.find("/", raw.find("//") + 2) :] if "//" in raw else raw
    if "%" not in tail and "http" not in tail.lower():
        return
    for m in _EMBEDDED.finditer(unquote(tail)):
        domain = registrable_domain(refang(m.group("host")))
        if domain is not None:
            yield Candidate(
                "domain", domain, raw, start, start + len(raw),
                {"host": m.group("host").lower(), "embedded": "true"}, inside_ok=True,
            )  # fmt: skip


@text_extractor
class UrlExtractor:
    """Links with a scheme or ``www.``, defanged or not, and their registrable domain."""

    name = "url"
    version = VERSION

    def extract(self, text: str, ctx: Context) -> Iterable[Candidate]:
        for m in _URL_SCAN.finditer(text):
            raw = _strip_trailing(m.group(0))
            norm = normalise_url(raw)
            if norm is None:
                continue
            url, host = norm
            start, end = m.start(), m.start() + len(raw)
            yield Candidate("url", url, raw, start, end, container=True)
            yield from _page(url, raw, start, end)
            hstart = m.start("h1") if m.group("h1") else m.start("h2")
            hraw = m.group("h1") or m.group("h2") or ""
            yield from _host_candidates(host, hraw, hstart, hstart + len(hraw))
            yield from _embedded(raw, start)


@text_extractor
class BareDomainExtractor:
    """Domains written without a scheme (``chat-priv[.]top/app.apk``)."""

    name = "domain"
    version = VERSION

    def extract(self, text: str, ctx: Context) -> Iterable[Candidate]:
        for m in _BARE_SCAN.finditer(text):
            host = refang(m.group("host")).lower()
            tld = host.rsplit(".", 1)[-1]
            if host.replace(".", "").isdigit():
                continue  # an IPv4 address or a number; the IP extractor decides
            path = m.group("path")
            # The cheap refusals first: each skips the word, so their order changes nothing.
            if not path and tld in _FILE_LIKE_TLDS:
                continue
            if looks_like_package(host):
                continue  # com.example.app: an Android package, reported by its own extractor
            if host.split(".", 1)[0] in _PROSE_WORDS and " " in m.group("host"):
                continue  # "the dot com era": a word before a spelled-out dot is prose
            domain = registrable_domain(host)
            if domain is None:
                continue
            hraw = m.group("host")
            hstart = m.start("host")
            if path:
                raw = _strip_trailing(m.group(0))
                norm = normalise_url(raw)
                if norm is not None:
                    end = m.start() + len(raw)
                    yield Candidate("url", norm[0], raw, m.start(), end, container=True)
                    yield from _page(norm[0], raw, m.start(), end)
            yield Candidate("domain", domain, hraw, hstart, hstart + len(hraw), {"host": host})


def normalise_email(raw: str) -> str | None:
    m = _EMAIL_RE.fullmatch(raw.strip())
    if not m:
        return None
    host = refang(m.group("host")).lower()
    if registrable_domain(host) is None:
        return None
    return f"{m.group('local').lower()}@{host}"


@text_extractor
class EmailExtractor:
    name = "email"
    version = VERSION

    def extract(self, text: str, ctx: Context) -> Iterable[Candidate]:
        if "@" not in text and "at)" not in text and "at]" not in text:
            return
        for m in _EMAIL_RE.finditer(text):
            value = normalise_email(m.group(0))
            if value is None:
                continue
            yield Candidate("email", value, m.group(0), m.start(), m.end(), container=True)
            # The mail domain links too (a ring's own domain); free-mail providers are on
            # the warninglist.
            host = value.rsplit("@", 1)[1]
            hs = m.start("host")
            domain = registrable_domain(host)
            if domain is not None:
                yield Candidate("domain", domain, m.group("host"), hs, m.end(), {"host": host})


@text_extractor
class IpExtractor:
    name = "ip"
    version = VERSION

    def extract(self, text: str, ctx: Context) -> Iterable[Candidate]:
        for m in _IPV4_SCAN.finditer(text):
            ip = normalise_ip(m.group("ip"))
            if ip is not None:
                yield Candidate("ip", ip, m.group(0), m.start(), m.end(), container=True)
        if ":" not in text:
            return
        for m in _IPV6_SCAN.finditer(text):
            raw = m.group("ip")
            if raw.count(":") < 2 or not any(c.isalnum() for c in raw):
                continue
            ip = normalise_ip(raw)
            if ip is not None:
                yield Candidate("ip", ip, raw, m.start(), m.end(), container=True)


def _whole(type_: str, value: str | None, raw: str) -> list[Candidate]:
    return [] if value is None else [Candidate(type_, value, raw, 0, len(raw))]


@identifier_normaliser("url", name="url", version=VERSION)
def _url_identifier(raw: str, ctx: Context) -> list[Candidate]:
    norm = normalise_url(raw)
    if norm is None:
        return []
    url, host = norm
    out = [Candidate("url", url, raw, 0, len(raw))]
    out.extend(_page(url, raw, 0, len(raw)))
    out.extend(_host_candidates(host, raw, 0, len(raw)))
    return out


@identifier_normaliser("domain", name="domain", version=VERSION)
def _domain_identifier(raw: str, ctx: Context) -> list[Candidate]:
    host = refang(raw.strip()).lower()
    if "/" in host or "://" in host:
        return list(_url_identifier(raw, ctx))
    domain = registrable_domain(host)
    return [] if domain is None else [Candidate("domain", domain, raw, 0, len(raw), {"host": host})]


@identifier_normaliser("email", name="email", version=VERSION)
def _email_identifier(raw: str, ctx: Context) -> list[Candidate]:
    return _whole("email", normalise_email(raw), raw)


@identifier_normaliser("ip", name="ip", version=VERSION)
def _ip_identifier(raw: str, ctx: Context) -> list[Candidate]:
    return _whole("ip", normalise_ip(raw), raw)
