"""Conformance: ioc-finder's public cases, and our own labelled multilingual corpus."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ringtrace.demo.extraction_corpus import generate_corpus
from ringtrace.indicators import extract_text
from ringtrace.indicators.evaluation import Scores, score_ioc_finder_cases
from tests.conftest import DATA, OUTPUT

HERE = Path(__file__).parent


def ioc_finder_scores() -> Scores:
    cases = (DATA / "ioc-finder-cases" / "cases.jsonl").read_text().splitlines()
    return score_ioc_finder_cases(cases)


def test_ioc_finder_cases_agree_except_documented_differences() -> None:
    scores = ioc_finder_scores()
    documented = json.loads((HERE / "data" / "ioc_finder_differences.json").read_text())[
        "differences"
    ]
    expected = {(d["case"], d["kind"], d["type"], d["value"]) for d in documented}
    assert all(d["reason"] for d in documented)
    actual = set(scores.errors)
    assert actual - expected == set(), "undocumented disagreements with ioc-finder"
    assert expected - actual == set(), "documented differences that no longer happen"
    OUTPUT.mkdir(parents=True, exist_ok=True)
    (OUTPUT / "ioc-finder-conformance.txt").write_text(scores.table() + "\n")
    # Every shared type still agrees on most of the cases.
    for t in ("crypto_wallet", "url", "ip"):
        assert scores.by_type[t].precision == 1.0 and scores.by_type[t].recall == 1.0


@pytest.mark.parametrize("seed", [11, 12])
def test_labelled_corpus_precision_and_recall_per_type(seed: int) -> None:
    scores = Scores()
    docs = generate_corpus(n=800, seed=seed)
    for i, doc in enumerate(docs):
        got = {(x.type, x.value) for x in extract_text(doc.text, doc.country)}
        scores.add(f"{seed}-{i}", doc.labels, got)
    OUTPUT.mkdir(parents=True, exist_ok=True)
    (OUTPUT / f"corpus-scores-{seed}.txt").write_text(scores.table() + "\n")
    assert len(scores.by_type) >= 15  # every type the corpus plants was scored
    for t, s in scores.by_type.items():
        assert s.precision >= 0.99, (t, s, [e for e in scores.errors if e[2] == t][:5])
        assert s.recall >= 0.95, (t, s, [e for e in scores.errors if e[2] == t][:5])


def test_corpus_covers_every_language() -> None:
    langs = {d.language for d in generate_corpus(n=200, seed=3)}
    assert langs == {"en", "zh-Hant", "zh-Hans", "ms", "ta", "hi", "ko"}
