"""Things a report cites rather than accuses: analysis pages, news articles, researchers'
posts, police and government sites.

Two signals, from the versioned ``data/references.json``:

* the site: a known analysis, news, research or reference site, or an official host
  (``*.gov.hk``, ``*.police.uk``, ``*.gov``);
* the context: a cue just before the link in the same clause ("see …", "according to …",
  "根據…", "menurut …").
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources


@dataclass(frozen=True)
class References:
    version: str
    sites: dict[str, str]  # domain or host -> reason
    official_suffixes: tuple[str, ...]
    cues: tuple[str, ...]  # read by ringtrace.indicators.roles
    about: tuple[str, ...]  # cues that the clause is about a publication (roles, too)
    after: tuple[str, ...]  # cues just after a link that say it is cited (roles, too)
    threads: re.Pattern[str] | None = None  # host/path of a forum's discussion thread
    thread_reason: str = "a discussion thread on a forum"


@lru_cache(maxsize=1)
def references() -> References:
    data = json.loads(
        resources.files("ringtrace.indicators")
        .joinpath("data/references.json")
        .read_text(encoding="utf-8")
    )
    sites: dict[str, str] = {}
    for lst in data["lists"]:
        for d in lst["domains"]:
            sites[d] = lst["reason"]
    return References(
        version=data["version"],
        sites=sites,
        official_suffixes=tuple(sorted(data["official_suffixes"], key=len, reverse=True)),
        cues=tuple(data["context"]["cues"]),
        about=tuple(data["context"]["about"]["cues"]),
        after=tuple(data["context"]["after"]["cues"]),
        threads=_thread_pattern(data.get("threads", {}).get("pages", [])),
        thread_reason=data.get("threads", {}).get("reason", "a discussion thread on a forum"),
    )


def _thread_pattern(pages: list[str]) -> re.Pattern[str] | None:
    """One pattern for the ``threads`` pages (``reddit.com/r/*/comments/``): the host with
    or without a ``www.``-like prefix, ``*`` one path segment."""
    if not pages:
        return None
    alts = []
    for page in pages:
        host, _, path = page.partition("/")
        body = "/".join("[^/?#]+" if seg == "*" else re.escape(seg) for seg in path.split("/"))
        alts.append(rf"{re.escape(host)}/{body}")
    return re.compile(rf"^(?:www\.|old\.|m\.|np\.)?(?:{'|'.join(alts)})", re.IGNORECASE)


def thread_reason(host: str, path: str) -> str | None:
    """Why a page is a cited reference by where it is: a forum's discussion thread."""
    refs = references()
    if refs.threads is None or not refs.threads.match(f"{host.lower()}{path}"):
        return None
    return refs.thread_reason


def site_reason(host: str) -> str | None:
    """Why a host is a cited reference by itself (a known site or an official host)."""
    refs = references()
    host = host.lower().rstrip(".")
    start = 0  # the host and each of its parents, down to (not including) the last label
    while (dot := host.find(".", start)) >= 0:
        reason = refs.sites.get(host[start:])
        if reason is not None:
            return reason
        start = dot + 1
    if host.endswith(_dotted(refs.official_suffixes)):
        return "an official (police or government) site"
    return None


@lru_cache(maxsize=4)
def _dotted(suffixes: tuple[str, ...]) -> tuple[str, ...]:
    """``suffixes`` with a leading dot: one ``str.endswith`` tries them all."""
    return tuple("." + s for s in suffixes)
