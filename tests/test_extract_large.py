"""Large and hostile inputs finish, and without errors.

These are guards against catastrophic (super-linear) regex behaviour, not speed claims:
a quadratic scan of these inputs would take hours, so a generous ceiling tells the two apart.
Speed itself is measured in benchmarks/extract.py.
"""

from __future__ import annotations

import random
import time

import pytest

from ringtrace.demo.extraction_corpus import generate_corpus
from ringtrace.indicators import extract_text

pytestmark = pytest.mark.slow

PATHOLOGICAL = {
    "digits": "1",
    "dots": ".",
    "at-signs": "@",
    "labels": "a.",
    "digit-dots": "1.",
    "spaced-digits": "1 ",
    "plus-numbers": "+1 ",
    "defanged-dots": "[.]",
    "schemes": "http://",
    "hex": "a1",
    "colons": "1:",
    "cjk": "請加我",
}


@pytest.mark.parametrize("name", sorted(PATHOLOGICAL))
def test_pathological_strings_of_two_megabytes(name: str) -> None:
    unit = PATHOLOGICAL[name]
    text = unit * (2_000_000 // len(unit))
    started = time.perf_counter()
    extract_text(text, "SG")
    assert time.perf_counter() - started < 60, f"{name}: far slower than linear"


def test_fifty_megabytes_of_text_and_junk() -> None:
    rng = random.Random(4)
    docs = generate_corpus(n=400, seed=9)
    parts: list[str] = []
    used: set[int] = set()
    size = 0
    while size < 50_000_000:
        if rng.random() < 0.1:
            chunk = bytes(rng.randrange(256) for _ in range(20_000)).decode("latin-1")
        else:
            picked = rng.sample(range(len(docs)), 60)
            used.update(picked)
            chunk = "\n".join(docs[i].text for i in picked)
        parts.append(chunk)
        size += len(chunk.encode())
    text = "\n".join(parts)
    started = time.perf_counter()
    found = {(i.type, i.value) for i in extract_text(text, "SG")}
    elapsed = time.perf_counter() - started
    assert elapsed < 600, "50 MB took far longer than a linear scan"
    # Every planted identifier of the documents used is found in the big text too ...
    expected = {label for i in used for label in docs[i].labels}
    assert len(expected) > 1000
    missed = expected - found
    assert len(missed) / len(expected) < 0.05, sorted(missed)[:20]
    # ... and the megabytes of random bytes between them invent little. They do spell some
    # short bare domains ("a.dk"), digit runs that are valid numbers, and IP addresses: on
    # this corpus 124 of 1,286 values (about 10%), nearly all domains. The bound keeps that
    # from growing unnoticed (docs/extraction.md, "Limits").
    planted = {label for d in docs for label in d.labels}
    invented = found - planted
    assert len(invented) / len(found) < 0.15, sorted(invented)[:20]
    by_type = {t: sum(1 for u, _ in invented if u == t) for t, _ in invented}
    assert by_type.get("domain", 0) >= len(invented) / 2, by_type
