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
    return host[4:] if host.startswith("www.") else host


def is_path_platform(host: str) -> bool:
    return _platform_host(host) in hosting().path


def page_key(host: str, path: str) -> str | None:
    """``host/segments`` for a page on a path platform with enough segments to name one
    user, file or form; None for any other host, or the platform's own pages."""
    h = _platform_host(host)
    need = hosting().path.get(h)
    if need is None:
        return None
    segs = [s for s in path.split("?", 1)[0].split("#", 1)[0].split("/") if s]
    # A short last segment is a marker ("forms/d/e/<id>"), not the id: take one more.
    while need < len(segs) and len(segs[need - 1]) <= 2:
        need += 1
    if len(segs) < need or len(segs[need - 1]) <= 2:
        return None
    return "/".join([h, *segs[:need]])
