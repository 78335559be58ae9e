"""Hosts, IP addresses and URLs as link keys: defanged forms read, normalised, and a host
reduced to its registrable domain.

Separate from :mod:`ringtrace.indicators.network` (the text extractors, whose large patterns
are compiled when it loads) so that the APK analysis, which needs only these, starts fast.
"""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache

from ringtrace.indicators.hosting import fragment_item, user_host
from ringtrace.indicators.suffixes import rule_set as suffix_rules
from ringtrace.indicators.suffixes import split_host

_DEFANG_DOT = re.compile(r" ?\[\.\] ?|\(\.\)|\{\.\}|\[dot\]|\(dot\)| dot |．|。", re.IGNORECASE)
_DEFANG_AT = re.compile(r"\[@\]|\[at\]|\(at\)", re.IGNORECASE)

_DEFANG_MARKS = ("[", "(", "{", "．", "。", " dot ", " DOT ", " Dot ")


def refang(text: str) -> str:
    if not any(map(text.__contains__, _DEFANG_MARKS)) and text[:4].lower() != "hxxp":
        return text  # the common case, without three regex passes
    text = _DEFANG_DOT.sub(".", text)
    text = _DEFANG_AT.sub("@", text)
    return re.sub(r"^(?:hxxp|hXXp)", "http", text, flags=re.IGNORECASE)


# A host read label by label exactly as written (no port, user, brackets, punycode or
# Unicode dots): whether it has a public suffix shows in its last label.
_PLAIN_HOST = re.compile(r"[a-z0-9-]+(?:\.[a-z0-9-]+)*")


@lru_cache(maxsize=1)
def _top_labels() -> frozenset[str]:
    """The last label of every rule of the bundled public-suffix list (``com``, ``ck`` of
    ``*.ck``): a host whose last label is none of them has no public suffix."""
    return frozenset(rule.rsplit(".", 1)[-1] for rule in suffix_rules())


def _may_have_suffix(last_label: str) -> bool:
    return last_label.startswith("xn--") or last_label in _top_labels()


@lru_cache(maxsize=65536)
def registrable_domain(host: str) -> str | None:
    """The registrable domain (eTLD+1) of a host, or None when it has no public suffix."""
    host = host.lower().rstrip(".")
    if _PLAIN_HOST.fullmatch(host) and not _may_have_suffix(host.rpartition(".")[2]):
        return None  # e.g. a file name (``report.pdf``) or a package name, without a lookup
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    label, suffix = split_host(host)  # the PSL bundled with tldextract, private part included
    if not suffix or not label:
        return None
    domain = f"{label}.{suffix}"
    # A user's host on a hosting platform the bundled PSL lacks is registrable itself.
    return user_host(host, domain) or domain


def normalise_ip(value: str) -> str | None:
    text = refang(value).strip("[] ")
    # An IPv4 address starts with an ASCII digit and an IPv6 one has colons: anything else
    # is refused without raising (most hosts are names, and exceptions are slow).
    if ":" not in text and not text[:1].isdigit():
        return None
    try:
        return ipaddress.ip_address(text).compressed
    except ValueError:
        return None


_HXXP = re.compile(r"^h[tx*]{2}p", re.IGNORECASE)
_BRACKET_SCHEME = re.compile(r"^(\w+)\[:\]//|^(\w+)\[://\]")
_SCHEME_REST = re.compile(r"^(?:(?P<scheme>[a-z][a-z0-9+.-]*)://)?(?P<rest>.*)$", re.I | re.S)
_CREDENTIALS = re.compile(r"^[^/?#@]*@")
_HOST_PORT_TAIL = re.compile(
    r"^(?P<host>\[[^\]]+\]|[^/?#:]+)(?::(?P<port>\d{1,5}))?(?P<tail>.*)$", re.S
)


def normalise_url(raw: str) -> tuple[str, str] | None:
    """``(url, host)`` for a possibly defanged URL, or None when it is not one.

    The link key keeps path and query (they identify the ring's file) but drops the
    fragment, the default port and the case of scheme and host.
    """
    text = refang(raw.strip())
    text = _HXXP.sub("http", text)
    text = _BRACKET_SCHEME.sub(lambda m: f"{m.group(1) or m.group(2)}://", text)
    m = _SCHEME_REST.match(text)
    if not m:
        return None
    scheme = (m.group("scheme") or "http").lower()
    if scheme == "fxp":
        scheme = "ftp"
    if scheme not in ("http", "https", "ftp"):
        return None
    # Credentials in a URL (user:password@) are a secret, not part of the link key.
    rest = _CREDENTIALS.sub("", m.group("rest"))
    split = _HOST_PORT_TAIL.match(rest)
    if not split:
        return None
    host = split.group("host").lower().rstrip(".")
    port = split.group("port")
    tail, _, fragment = split.group("tail").partition("#")
    ip = normalise_ip(host)
    if ip is None and registrable_domain(host) is None:
        return None
    if ip is not None:
        host = f"[{ip}]" if ":" in ip else ip
    else:
        host = host.encode("idna").decode("ascii")
    if port and (scheme, port) not in (("http", "80"), ("https", "443"), ("ftp", "21")):
        host_port = f"{host}:{port}"
    else:
        host_port = host
    if tail in ("", "/"):
        tail = "/"
    item = fragment_item(host, fragment)  # mega.nz/#!id: the fragment is the file
    if item is not None:
        tail += item
    return f"{scheme}://{host_port}{tail}", host.strip("[]")
