"""Choosing the MinHash library for script suggestions: rensa beside datasketch.

Builds N synthetic offender messages: a few hundred script families with the variations real
victims paste (typos, amounts, numbers, languages), plus unrelated messages. Times signature
building, LSH indexing and querying for each library in the same process and scores both
against the planted families (pairs of messages of one family with similarity >= threshold).

Usage: python benchmarks/suggestions.py [--docs 100000] [--threshold 0.5]
"""

from __future__ import annotations

import argparse
import random
import time

from ringtrace.linking.suggestions import near_duplicates

FAMILIES = [
    "I have recorded our video call. Pay {amt} {cur} to {acct} within {h} hours or I will send "
    "the video to all {n} contacts in your phone, your family and your employer.",
    "24小時內轉{amt}{cur}到{acct}，否則我會把你的影片發給你所有的{n}個聯絡人。",
    "Bayar {amt} {cur} ke {acct} dalam {h} jam atau video awak dihantar kepada {n} kenalan awak.",
    "{h}시간 안에 {acct}로 {amt} {cur} 보내. 안 보내면 네 영상을 연락처 {n}명 전원에게 보낸다.",
]


def _words(rng: random.Random, n: int) -> list[str]:
    return [
        "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9)))
        for _ in range(n)
    ]


def corpus(n: int, seed: int = 3) -> tuple[dict[int, str], dict[int, int]]:
    """30% of messages come from script families (about 4 victims each): one ring's script
    (its own wording, in one of four languages' frames) with the amount, account, deadline
    and contact count changed, sometimes a typo or a dropped word. The rest share nothing."""
    rng = random.Random(seed)
    texts: dict[int, str] = {}
    family: dict[int, int] = {}
    families = max(1, int(n * 0.3 / 4))
    for i in range(n):
        if rng.random() < 0.3:
            f = rng.randrange(families)
            own = " ".join(_words(random.Random(f), 18))
            text = own + " " + FAMILIES[f % len(FAMILIES)].format(
                amt=rng.choice([3000, 5000, 8000]), cur=rng.choice(["SGD", "HKD", "USD"]),
                acct=f"{rng.randrange(10**9):09d}", h=rng.choice([12, 24, 48]), n=rng.randrange(50, 900),
            )  # fmt: skip
            words = text.split(" ")
            if rng.random() < 0.3:
                del words[rng.randrange(len(words))]  # a dropped word
            text = " ".join(words)
            if rng.random() < 0.3:
                j = rng.randrange(len(text) - 1)
                text = text[:j] + text[j + 1 :]  # a typo
            texts[i] = text
            family[i] = f
        else:
            texts[i] = " ".join(_words(rng, 30))
    return texts, family


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--docs", type=int, default=100_000)
    ap.add_argument("--threshold", type=float, default=0.5)
    args = ap.parse_args()
    texts, family = corpus(args.docs)
    print(f"{len(texts):,} messages, {len(set(family.values()))} script families\n")
    results = {}
    for backend in ("rensa", "datasketch"):
        t = time.perf_counter()
        pairs = near_duplicates(texts, args.threshold, backend)
        seconds = time.perf_counter() - t
        same = sum(1 for p in pairs if family.get(p.a, -1) == family.get(p.b, -2))
        results[backend] = (seconds, {(p.a, p.b) for p in pairs})
        print(
            f"{backend:11} {seconds:7.1f} s  {len(pairs):,} pairs, {same / max(1, len(pairs)):.3f} of them same family"
        )
    r, d = results["rensa"], results["datasketch"]
    both = len(r[1] & d[1])
    print(f"\nrensa is {d[0] / r[0]:.1f}x faster; pairs found by both: {both:,} "
          f"(rensa {len(r[1]):,}, datasketch {len(d[1]):,})")  # fmt: skip


if __name__ == "__main__":
    main()
