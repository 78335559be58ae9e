"""Extraction quality on labels ringtrace did not write.

benchmarks/extract.py grades every tool on ringtrace's own generated corpus, whose labels come
from the same project as the extractor. This script grades on public labels instead:

1. ioc-finder's public test cases (tests/data/ioc-finder-cases, LGPL-3.0 test data): ringtrace's
   precision and recall per shared type against ioc-finder's expected output. These are
   ioc-finder's expectations, so ioc-finder itself is not graded on them (it would score 1.0
   by construction); a disagreement may be a deliberate difference (tests/data/
   ioc_finder_differences.json lists each with its reason).
2. The BIP-173/BIP-350 reference vectors (tests/data/segwit-vectors, MIT): each valid address
   and each invalid one written into a sentence. A valid address found counts towards
   recall; an invalid one reported as a wallet is a false positive. ringtrace and ioc-finder
   side by side.

Exits with an error if ringtrace reports any invalid vector as a wallet.
Usage: python benchmarks/extract_reference.py   (ioc-finder from the ``bench`` extra)
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from ringtrace.indicators import extract_text
from ringtrace.indicators.evaluation import Scores, score_ioc_finder_cases

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"


def ioc_finder_cases() -> Scores:
    return score_ioc_finder_cases(
        (DATA / "ioc-finder-cases" / "cases.jsonl").read_text().splitlines()
    )


def _wallets_ringtrace(text: str) -> set[str]:
    return {i.value.lower() for i in extract_text(text) if i.type == "crypto_wallet"}


def _wallets_ioc_finder(text: str) -> set[str]:
    from ioc_finder import find_iocs

    found = find_iocs(text, included_ioc_types=["bitcoin_addresses"])
    return {v.lower() for v in found.get("bitcoin_addresses", [])}


def segwit(tool: str) -> tuple[int, int, int, int]:
    """(valid found, valid, invalid reported, invalid) for one tool."""
    data = json.loads((DATA / "segwit-vectors" / "addresses.json").read_text())
    find = _wallets_ringtrace if tool == "ringtrace" else _wallets_ioc_finder
    found = sum(
        1 for a in data["valid"] if a.lower() in find(f"Send the money to {a} before noon.")
    )
    wrong = sum(1 for a in data["invalid"] if find(f"Send the money to {a} before noon."))
    return found, len(data["valid"]), wrong, len(data["invalid"])


def main() -> None:
    logging.disable(logging.WARNING)  # ioc-finder's grammar warnings
    scores = ioc_finder_cases()
    print("1. ioc-finder's public cases, ringtrace graded on ioc-finder's expected output")
    print(scores.table())
    print()
    print("2. BIP-173/350 reference vectors, each written into a sentence")
    failed = False
    for tool in ("ringtrace", "ioc-finder"):
        try:
            found, valid, wrong, invalid = segwit(tool)
        except ImportError:
            print(f"  {tool:10s} not installed (pip install -e '.[bench]')")
            continue
        print(
            f"  {tool:10s} valid found {found}/{valid} (recall {found / valid:.3f}); "
            f"invalid reported as a wallet {wrong}/{invalid}"
        )
        failed |= tool == "ringtrace" and wrong > 0
    if failed:
        raise SystemExit("ringtrace reported an invalid reference address as a wallet")


if __name__ == "__main__":
    main()
