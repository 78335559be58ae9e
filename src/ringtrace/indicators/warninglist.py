"""Values that never link reports, each with the reason it is excluded.

The data lives in ``data/warninglist.json`` (versioned); address ranges come from
:mod:`ipaddress` and the IANA special-purpose registries it follows.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from urllib.parse import parse_qsl, urlsplit

from ringtrace.indicators.hosting import hosting, is_path_platform, page_key
from ringtrace.indicators.hosts import registrable_domain

_DOCUMENTATION_NETS = tuple(
    ipaddress.ip_network(n)
    for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32", "3fff::/20")
)


@dataclass(frozen=True)
class Warninglist:
    version: str
    entries: dict[tuple[str, str], str]  # (type, value) -> reason

    def reason(self, type_: str, value: str) -> str | None:
        if type_ == "ip":
            return ip_reason(value)
        if type_ == "url":
            return self._url_reason(value)
        if type_ == "email":
            domain = value.rsplit("@", 1)[-1]
            if self.entries.get(("domain", registrable_domain(domain) or domain), "").startswith(
                "a reserved"
            ):
                return "an address at a reserved example domain"
            return None
        if type_ == "domain":
            return (
                self.entries.get((type_, value))
                or _platform_reason(value)
                or _third_party_reason(value)
            )
        if type_ == "page":
            return self.entries.get((type_, value)) or self._store_app_reason(value)
        return self.entries.get((type_, value))

    def _url_reason(self, url: str) -> str | None:
        parts = urlsplit(url)
        host = parts.hostname or ""
        ip = ip_reason(host) if host and (host[0].isdigit() or ":" in host) else None
        if ip:
            return ip
        if (
            is_path_platform(host)
            and page_key(host, parts.path, parts.query, parts.fragment) is None
        ):
            return f"a page of the platform itself, not one of its users': {hosting().path_reason}"
        store = self._store_app_reason(host + parts.path + "?" + parts.query)
        if store is not None:
            return store
        domain = registrable_domain(host) or host
        reason = self.entries.get(("domain", domain))
        bare = _FRONT_PAGE.fullmatch(parts.path) is not None and not parts.query
        if reason is None and bare:
            return _third_party_reason(domain)
        if reason is None:
            return None
        if reason.startswith("a reserved"):
            return reason
        if bare:
            return f"the bare address of {domain}: {reason}"
        return None  # a specific page (t.me/ringhandle, bit.ly/xyz) does identify something

    def _store_app_reason(self, page: str) -> str | None:
        """The store listing of a widely used app (``store_app`` entries): victims of every
        ring are told to install WhatsApp or LINE; a listing of any other app still links."""
        host, _, rest = page.partition("/")
        if host.removeprefix("www.") not in _STORE_HOSTS:
            return None
        path, _, query = rest.partition("?")
        ids = {v for k, v in parse_qsl(query) if k == "id"}
        ids.add(path.rstrip("/").rsplit("/", 1)[-1])
        for app in ids:
            reason = self.entries.get(("store_app", app.lower()))
            if reason is not None:
                return reason
        return None


# A site's front page in a language or its sign-in page ("binance.com/en", "/zh-hk/",
# "/home", "/login"): the site itself, as its bare address is.
_FRONT_PAGE = re.compile(
    r"/?|/(?:[a-z]{2}(?:[-_][a-z]{2,4})?|home|index\.(?:html?|php)|login|signin|sign-in)/?",
    re.IGNORECASE,
)
_STORE_HOSTS = frozenset({"play.google.com", "apps.apple.com", "itunes.apple.com"})


def _platform_reason(domain: str) -> str | None:
    """A hosting or path platform's own domain: the key is the user's host or page."""
    h = hosting()
    if domain in h.subdomain:
        return "a hosting platform's own domain: each user's site is its own host, which links"
    if is_path_platform(domain):
        return h.path_reason
    return None


def _third_party_reason(domain: str) -> str | None:
    """The bare domain of an SDK, cloud, CDN or analytics service that thousands of apps talk
    to (the APK analysis's versioned list, ``apk/data/third_party.json``): victims name it
    when they describe what the app connected to, whoever wrote the app. A customer's own
    host on a tenant platform (``<project>.firebaseio.com``) is not its bare domain."""
    from ringtrace.apk.thirdparty import builtin as third_party  # data only, no analysis

    owner = third_party().host(domain)
    if owner.kind != "third_party" or owner.service is None:
        return None
    return f"the domain of a service thousands of apps use ({owner.service}), not one ring's"


def ip_reason(value: str) -> str | None:
    try:
        ip = ipaddress.ip_address(value)
    except ValueError:
        return None
    if any(ip in net for net in _DOCUMENTATION_NETS):
        return "a documentation address range (RFC 5737 / RFC 3849)"
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_unspecified:
        return "the unspecified address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_private:
        return "a private network address, the same in millions of homes"
    if ip.is_reserved or not ip.is_global:
        return "a reserved address range"
    return None


@lru_cache(maxsize=1)
def builtin() -> Warninglist:
    text = resources.files("ringtrace.indicators").joinpath("data/warninglist.json").read_text()
    data = json.loads(text)
    entries: dict[tuple[str, str], str] = {}
    for lst in data["lists"]:
        for value in lst["values"]:
            entries[(lst["type"], value)] = lst["reason"]
    return Warninglist(version=data["version"], entries=entries)
