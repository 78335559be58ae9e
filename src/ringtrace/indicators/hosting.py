"""Hosting, social, shortener, file-sharing and form platforms: whose key is the user's full
host or page, never the platform's registrable domain.

The Public Suffix List's private section (tldextract's ``include_psl_private_domains``)
already treats ``blogspot.com``, ``github.io``, ``netlify.app`` and many more as public
suffixes. ``data/hosting.json`` (versioned) adds what the bundled snapshot lacks: platforms
that give each user a host of their own (``*.000webhostapp.com``, ``*.tumblr.com``), and
platforms where the user, file or form is a path (``forms.gle/…``, ``drive.google.com/file/d/…``,
shorteners), with how many path segments make the key.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

PAGE = "page"  # the link-key type of a page on a path platform: "host/seg1/seg2"


@dataclass(frozen=True)
class Hosting:
    version: str
    subdomain: frozenset[str]
    path: dict[str, int]
    path_reason: str
    query: dict[str, str]  # host -> the query parameter that holds the item's id
    fragment: frozenset[str]  # hosts that put the item's id in the fragment (mega.nz/#!id)
    sections: frozenset[str]  # path words that name a section or a marker, never an item
    items: frozenset[str]  # path words after which the next segment is the item's id


@lru_cache(maxsize=1)
def hosting() -> Hosting:
    data = json.loads(
        resources.files("ringtrace.indicators").joinpath("data/hosting.json").read_text()
    )
    return Hosting(
        version=data["version"],
        subdomain=frozenset(data["subdomain"]),
        path={k: int(v) for k, v in data["path"].items()},
        path_reason=data["path_reason"],
        query=dict(data["query"]),
        fragment=frozenset(data["fragment"]),
        sections=frozenset(data["sections"]),
        items=frozenset(data["items"]),
    )


def user_host(host: str, domain: str) -> str | None:
    """For a host on a subdomain platform, the user's own host (one label under the
    platform's domain): ``a.b.tumblr.com`` -> ``b.tumblr.com``. None otherwise, or for the
    platform's own ``www``."""
    if domain not in hosting().subdomain or host == domain:
        return None
    label = host[: -len(domain) - 1].rsplit(".", 1)[-1]
    if label in ("www", "m", ""):
        return None
    return f"{label}.{domain}"


def _platform_host(host: str) -> str:
    host = host.lower().rstrip(".")
    # The web and mobile hosts of a platform are one platform (m.youtube.com, www.reddit.com).
    for prefix in ("www.", "m."):
        if host.startswith(prefix) and host[len(prefix) :] in hosting().path:
            return host[len(prefix) :]
    return host


def is_path_platform(host: str) -> bool:
    return _platform_host(host) in hosting().path


def fragment_item(host: str, fragment: str) -> str | None:
    """``#!id`` for a platform that puts the item's id in the fragment (``mega.nz/#!id!key``);
    what follows the id there is a decryption key, a secret, and is dropped."""
    if not fragment or _platform_host(host) not in hosting().fragment:
        return None
    item = fragment.lstrip("!/").split("!", 1)[0]
    return f"#!{item}" if len(item) > 2 else None


def page_key(host: str, path: str, query: str = "", fragment: str = "") -> str | None:
    """``host/segments`` for a page on a path platform with enough segments to name one
    user, file or form; None for any other host, or the platform's own pages.

    A segment that names a section or a marker (``r``, ``s``, ``watch``, ``channel``) is
    never the end of a key: one more is taken. An item word after the key (``comments``,
    ``status``) adds the item it names (``reddit.com/r/x/comments/id``, not the subreddit).
    Where the platform puts the item's id in the query (``youtube.com/watch?v=id``) or the
    fragment (``mega.nz/#!id``), the key keeps that parameter or that id.
    """
    h = _platform_host(host)
    data = hosting()
    need = data.path.get(h)
    if need is None:
        return None
    segs = [s for s in path.split("?", 1)[0].split("#", 1)[0].split("/") if s]

    def marker(seg: str) -> bool:
        return len(seg) <= 2 or seg.lower() in data.sections

    param = data.query.get(h)
    if param is not None:
        for pair in query.split("&"):
            name, _, value = pair.partition("=")
            if name == param and len(value) > 2:
                return f"{h}/{'/'.join(segs)}?{param}={value}" if segs else f"{h}?{param}={value}"
    item = fragment_item(h, fragment)
    if item is not None and not segs:
        return f"{h}/{item}"
    while need < len(segs) and marker(segs[need - 1]):
        need += 1
    if len(segs) < need or marker(segs[need - 1]):
        return None
    if need + 1 < len(segs) and segs[need].lower() in data.items and not marker(segs[need + 1]):
        need += 2
    return "/".join([h, *segs[:need]])
