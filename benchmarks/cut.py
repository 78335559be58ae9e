"""An analyst's cut on a large store: how long it takes, and how long submissions made
meanwhile wait for their acknowledgement.

Builds a SQLite store of ``--reports`` reports (rings of 2-40 victims sharing an offender's
number, and background reports with numbers of their own), then cuts ``--cuts`` ring keys
one after another while a thread keeps submitting new reports. Prints the median and the
worst cut, and the median and worst acknowledgement latency during the cuts.

Usage: python benchmarks/cut.py [--reports N] [--cuts K] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from ringtrace.domain.models import LinkKey
from ringtrace.intake.received import receive
from ringtrace.services import decisions
from ringtrace.services.intake import import_lines, ingest
from ringtrace.settings import Settings
from ringtrace.store import Store


def _phone(i: int) -> str:
    return f"+6581{i:06d}"


def _doc(n: int, phone: str) -> dict[str, Any]:
    return {
        "external_id": f"B-{n:07d}", "source": "bench", "received_at": "2024-07-02T21:14:00+08:00",
        "offender_identifiers": [{"type": "phone", "value": phone}],
        "narrative": "He threatened to send the video to my contacts.",
    }  # fmt: skip


def build(store: Store, reports: int, seed: int) -> list[str]:
    """Rings and background; returns the rings' numbers."""
    rng = random.Random(seed)
    docs, rings, n, key = [], [], 0, 0
    while n < reports:
        size = rng.choice([1, 1, 1, 1, 2, 5, 20, 40])
        key += 1
        if size > 1:
            rings.append(_phone(key))
        for _ in range(min(size, reports - n)):
            docs.append(json.dumps(_doc(n, _phone(key))))
            n += 1
    for i in range(0, len(docs), 5000):
        import_lines(store, docs[i : i + 5000])
        print(f"  {min(i + 5000, len(docs))} reports stored", flush=True)
    return rings


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--reports", type=int, default=50_000)
    ap.add_argument("--cuts", type=int, default=9)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--data-dir", type=Path, default=None, help="keep the store here")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = args.data_dir or Path(tmp)
        store = Store.open(Settings(data_dir=data, actor="bench"))
        store.migrate()
        t = time.perf_counter()
        rings = build(store, args.reports, args.seed)
        print(f"{args.reports} reports stored in {time.perf_counter() - t:.0f} s")
        acks: list[float] = []
        stop = threading.Event()

        def submit() -> None:
            n = 10_000_000
            while not stop.is_set():
                n += 1
                received = receive(json.dumps(_doc(n, _phone(900_000 + n % 1000))))
                s = time.perf_counter()
                ingest(store, received)
                acks.append(time.perf_counter() - s)

        worker = threading.Thread(target=submit, daemon=True)
        worker.start()
        cuts = []
        for phone in random.Random(args.seed).sample(rings, min(args.cuts, len(rings))):
            s = time.perf_counter()
            decisions.cut(store, LinkKey("phone", phone), reason="benchmark")
            cuts.append(time.perf_counter() - s)
        stop.set()
        worker.join()
        store.close()
    print(
        f"cut: median {statistics.median(cuts) * 1000:.1f} ms, worst {max(cuts) * 1000:.1f} ms "
        f"over {len(cuts)} cuts"
    )
    if acks:
        print(
            f"submissions meanwhile: {len(acks)}, acknowledged in median "
            f"{statistics.median(acks) * 1000:.1f} ms, worst {max(acks) * 1000:.1f} ms"
        )


if __name__ == "__main__":
    main()
