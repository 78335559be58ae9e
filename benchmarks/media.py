"""Media hashing and matching speed.

1. Hashing: PDQ images per second through ringtrace's preprocessing (decode, EXIF, RGB,
   thumbnail to 512, pdqhash) over Meta's reference images.
2. Matching: Q queries against N stored hashes at distance <= 31, run side by side in one
   process: ringtrace's slot-table index (the default for large sets), faiss's
   IndexBinaryMultiHash with the same 16 x 16-bit slots, and a numpy brute force (XOR and
   popcount over every stored hash). Half the queries are planted near copies (0 to 31 bits
   flipped), half random. All three must return identical matches.

Usage: python benchmarks/media.py [--stored 1000000] [--queries 1000]
(the brute force answers every query too, and every answer of every index is compared with
it; the script exits with an error if any differs). Needs the ``bench`` extra (faiss-cpu).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import numpy as np
from faiss_index import MultiHashIndex

from ringtrace.media import hash_image
from ringtrace.media.index import BruteForceIndex, SlotTableIndex

PDQ_DIR = Path(__file__).resolve().parents[1] / "tests" / "data" / "pdq" / "images"


def hashing(rounds: int = 5) -> None:
    files = sorted(PDQ_DIR.iterdir())
    datas = [f.read_bytes() for f in files]
    start = time.perf_counter()
    for _ in range(rounds):
        for d in datas:
            hash_image(d)
    elapsed = time.perf_counter() - start
    n = rounds * len(datas)
    mb = rounds * sum(map(len, datas)) / 2**20
    print(f"hashing: {n / elapsed:.1f} images/s ({mb / elapsed:.1f} MiB/s of files), "
          f"{len(files)} reference images (up to 1.2 MB, ~1000 px), {rounds} rounds")  # fmt: skip


def corpus(stored: int, queries: int, seed: int = 11) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    db = rng.integers(0, 256, (stored, 32), dtype=np.uint8)
    q = rng.integers(0, 256, (queries, 32), dtype=np.uint8)
    for i in range(queries // 2):
        src = int(rng.integers(stored))
        q[i] = db[src]
        for b in rng.choice(256, int(rng.integers(0, 32)), replace=False):
            q[i, b // 8] ^= 1 << (b % 8)
    return db, q


def rss_mib() -> float:
    """Current resident memory (not the peak, so each index is measured on its own)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def matching(stored: int, queries: int) -> None:
    db, q = corpus(stored, queries)
    ids = np.arange(stored, dtype=np.int64)
    print(f"matching: {queries} queries against {stored:,} stored hashes, distance <= 31, "
          f"{os.cpu_count()} cores")  # fmt: skip
    results = {}
    for cls in (SlotTableIndex, MultiHashIndex):
        before = rss_mib()
        t0 = time.perf_counter()
        idx = cls()
        idx.add(ids, db)
        build = time.perf_counter() - t0
        grown = rss_mib() - before
        idx.search(q[:10])  # warm up
        t0 = time.perf_counter()
        res = idx.search(q)
        batch = time.perf_counter() - t0
        singles = []
        for i in range(200):
            t0 = time.perf_counter()
            idx.search(q[i : i + 1])
            singles.append(time.perf_counter() - t0)
        results[cls.kind] = res
        print(f"  {cls.kind:16s} build {build:6.2f} s  batched {queries / batch:8,.0f} q/s  "
              f"single median {1000 * statistics.median(singles):.2f} ms  "
              f"p95 {1000 * sorted(singles)[189]:.2f} ms  memory +{grown:,.0f} MiB")  # fmt: skip
        del idx
    brute = BruteForceIndex()
    brute.add(ids, db)
    t0 = time.perf_counter()
    truth = brute.search(q)
    per = (time.perf_counter() - t0) / queries
    print(f"  {'numpy brute force':16s} {1 / per:8,.0f} q/s  single {1000 * per:.2f} ms "
          f"(batched, all {queries} queries)")  # fmt: skip
    hits = sum(len(r) for r in truth)
    differ = {
        k: sum(1 for a, b in zip(res, truth, strict=True) if a != b) for k, res in results.items()
    }
    print(f"  {hits} matches; queries answered differently from brute force: {differ}")
    if any(differ.values()) or hits == 0:
        raise SystemExit("indexes disagree with brute force: the figures are void")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stored", type=int, default=1_000_000)
    ap.add_argument("--queries", type=int, default=1000)
    args = ap.parse_args()
    hashing()
    matching(args.stored, args.queries)


if __name__ == "__main__":
    main()
