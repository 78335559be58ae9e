"""Android package names mentioned in text (``com.privatechat.app``).

A package name reads like a reversed domain. A dotted name that starts with a common
top-level label (``com.``, ``org.``, ...) and has three or more parts is taken as a package
name; the domain extractor leaves such names alone. Package names are weak link keys: rings
reuse legitimate names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ringtrace.indicators.gated import Gated
from ringtrace.indicators.registry import Candidate, Context, text_extractor

VERSION = "1"

PACKAGE_ROOTS = (
    "com",
    "org",
    "net",
    "io",
    "cn",
    "me",
    "app",
    "co",
    "in",
    "sg",
    "hk",
    "tw",
    "kr",
    "my",
    "ru",
    "de",
    "uk",
)
_FIRST = "".join(sorted({r[0] for r in PACKAGE_ROOTS}))
_PACKAGE = re.compile(  # the lookahead: a match's first characters, to reject others fast
    rf"(?=[{_FIRST}])(?<![A-Za-z0-9_.\-])(?:{'|'.join(PACKAGE_ROOTS)})(?:\.[a-zA-Z][a-zA-Z0-9_]{{0,40}}){{2,8}}(?![A-Za-z0-9_]|\.[A-Za-z0-9])"
)

# Searched through a gate (indicators/gated.py): a root's first letter at a word start, up to
# two more lower-case letters, a dot and a letter.
_PACKAGE_SCAN = Gated(
    _PACKAGE,
    rf"[{_FIRST}](?<![A-Za-z0-9_.\-][{_FIRST}])"
    rf"[a-z]{{0,{max(map(len, PACKAGE_ROOTS)) - 1}}}\.[a-zA-Z]",
)


# A dotted name that ends in one of these is a host ("app.yajo4.com", "me.chat-x.net"): Java
# packages are named from the domain backwards, so they end with the app's own name.
HOST_ENDINGS = frozenset({"com", "net", "org", "cn", "ru", "de", "uk", "tw", "hk", "kr", "jp"})


def looks_like_package(host: str) -> bool:
    parts = host.split(".")
    return (
        len(parts) >= 3
        and parts[0].lower() in PACKAGE_ROOTS
        and parts[-1].lower() not in HOST_ENDINGS
    )


@text_extractor
class PackageNameExtractor:
    name = "android-package"
    version = VERSION

    def extract(self, text: str, ctx: Context) -> Iterable[Candidate]:
        for m in _PACKAGE_SCAN.finditer(text):
            raw = m.group(0)
            if not looks_like_package(raw):
                continue  # a host such as app.example.com: the domain extractor's
            yield Candidate("android_package", raw.lower(), raw, m.start(), m.end())
