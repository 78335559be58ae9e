"""File hashes (MD5, SHA-1, SHA-256, SHA-512) written in text.

Kept apart from wallets: a 40-hex run right after ``0x`` is an Ethereum address, not a SHA-1.
A run of only digits or only letters is not taken (real digests mix both almost always; a
32-digit number is an id).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ringtrace.indicators.gated import Gated
from ringtrace.indicators.registry import Candidate, Context, text_extractor

VERSION = "1"

_HASH = re.compile(  # the lookahead: a match's first characters, to reject others fast
    r"(?=[0-9a-fA-F])(?<![0-9A-Za-z])(?:[0-9a-fA-F]{128}|[0-9a-fA-F]{64}|[0-9a-fA-F]{40}|[0-9a-fA-F]{32})(?![0-9A-Za-z])"
)
# Searched through a gate (indicators/gated.py): a hex digit at a word start and 31 more.
_HASH_SCAN = Gated(_HASH, r"[0-9a-fA-F](?<![0-9A-Za-z][0-9a-fA-F])[0-9a-fA-F]{31}")
_KIND = {32: "md5", 40: "sha1", 64: "sha256", 128: "sha512"}


@text_extractor
class HashExtractor:
    name = "hash"
    version = VERSION

    def extract(self, text: str, ctx: Context) -> Iterable[Candidate]:
        for m in _HASH_SCAN.finditer(text):
            raw = m.group(0)
            if raw.isdigit() or not any(c.isdigit() for c in raw):
                continue
            if raw.lower() != raw and raw.upper() != raw:
                continue  # mixed case hex is not how digests are written
            yield Candidate(
                "file_hash", raw.lower(), raw, m.start(), m.end(), {"algorithm": _KIND[len(raw)]}
            )
