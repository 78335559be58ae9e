"""Weak signals: near-duplicate extortion scripts, found with MinHash LSH.

Rings work from scripts; victims paste the messages they received. Two reports whose
offender messages are near-duplicates are *suggested* as one ring with a score, for an
analyst to accept (a merge) or reject. They never merge on their own: a script can be copied
between rings.

Texts are normalised (lower case, digits folded, spaces collapsed) and cut into character
5-grams, which work for Chinese, Korean and Tamil as well as for English. MinHash comes from
`rensa` (measured against `datasketch` in benchmarks/suggestions.py; the faster one with equal
recall is used), LSH finds candidate pairs, and each candidate's estimated Jaccard similarity
is checked against the threshold.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

NUM_PERM = 128
NUM_BANDS = 32
SHINGLE = 5
_DIGITS = re.compile(r"\d+")
_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    return _SPACE.sub(" ", _DIGITS.sub("0", text.lower())).strip()


def shingles(text: str, n: int = SHINGLE) -> list[str]:
    t = normalise(text)
    if len(t) <= n:
        return [t] if t else []
    return list({t[i : i + n] for i in range(len(t) - n + 1)})


@dataclass(frozen=True)
class Pair:
    a: int
    b: int
    score: float


def near_duplicates(
    texts: Mapping[int, str], threshold: float = 0.5, backend: str = "rensa"
) -> list[Pair]:
    """Pairs of ids whose texts' estimated Jaccard similarity is at least ``threshold``."""
    sigs: dict[int, Any] = {}
    if backend == "rensa":
        from rensa import RMinHash, RMinHashLSH

        lsh: Any = RMinHashLSH(threshold=threshold, num_perm=NUM_PERM, num_bands=NUM_BANDS)
        for i, text in texts.items():
            sh = shingles(text)
            if not sh:
                continue
            m = RMinHash(num_perm=NUM_PERM, seed=42)
            m.update(sh)
            sigs[i] = m
            lsh.insert(i, m)
    elif backend == "datasketch":
        from datasketch import MinHash, MinHashLSH

        lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
        for i, text in texts.items():
            sh = shingles(text)
            if not sh:
                continue
            m = MinHash(num_perm=NUM_PERM, seed=42)
            m.update_batch([s.encode() for s in sh])
            sigs[i] = m
            lsh.insert(i, m)
    else:
        raise ValueError(f"unknown MinHash backend {backend!r}")
    out = []
    for i, m in sigs.items():
        for j in lsh.query(m):
            j = int(j)
            if j <= i:
                continue
            score = float(m.jaccard(sigs[j]))
            if score >= threshold:
                out.append(Pair(i, j, round(score, 3)))
    return sorted(out, key=lambda p: (-p.score, p.a, p.b))
