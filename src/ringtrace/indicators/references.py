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
    cue: re.Pattern[str]
    cues: tuple[str, ...]


def _cue_pattern(cues: list[str]) -> re.Pattern[str]:
    parts = []
    for cue in sorted(cues, key=len, reverse=True):
        word = re.escape(cue)
        if cue[0].isascii() and cue[0].isalpha():
            word = r"(?<![a-z])" + word
        if cue[-1].isascii() and cue[-1].isalpha():
            word += r"(?![a-z])"
        parts.append(word)
    return re.compile("|".join(parts))


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
        cue=_cue_pattern(data["context"]["cues"]),
        cues=tuple(data["context"]["cues"]),
    )


def site_reason(host: str) -> str | None:
    """Why a host is a cited reference by itself (a known site or an official host)."""
    refs = references()
    host = host.lower().rstrip(".")
    labels = host.split(".")
    for i in range(len(labels) - 1):
        reason = refs.sites.get(".".join(labels[i:]))
        if reason is not None:
            return reason
    for suffix in refs.official_suffixes:
        if host.endswith("." + suffix):
            return "an official (police or government) site"
    return None


_CLAUSE_END = re.compile(r"[.!?。！？\n;；]\s|[。！？\n]")


def clause_before(low: str, start: int, width: int = 48) -> str:
    """The lowered text of the clause that ends at ``start`` (at most ``width`` characters)."""
    window = low[max(0, start - width) : start]
    ends = [m.end() for m in _CLAUSE_END.finditer(window)]
    return window[ends[-1] :] if ends else window


def clause_after(low: str, end: int, width: int = 16) -> str:
    """The lowered text of the clause that starts at ``end`` (at most ``width`` characters)."""
    window = low[end : end + width]
    m = _CLAUSE_END.search(window)
    return window[: m.start()] if m else window


def cited_in_context(clause: str) -> bool:
    return references().cue.search(clause) is not None
