"""An analyst's cut on a large store: how long it takes, and whether submissions made
meanwhile keep being acknowledged.

Builds a store of ``--reports`` reports (rings of 2-40 victims sharing an offender's number,
and background reports with numbers of their own), then cuts ``--cuts`` ring keys one after
another while a thread keeps submitting new reports. Prints the median and the worst cut,
and the acknowledgements during the cuts; exits non-zero if the median cut takes 1 s or
more, a submission failed, or an acknowledged report is not in the store afterwards.

Building through the online linker takes hours at 1,000,000 reports, so the store is built
the way a migration would load it: each report received and extracted as on ingest, stored
in bulk (``services.relink.bulk_load``), then linked with the batch linker
(``services.relink.relink``). Before that, ``--sample`` reports are built both ways (ingest
one by one, and bulk + relink) and the two stores compared: clusters, core groups and every
indicator's status must be identical, or the benchmark stops.

Usage: python benchmarks/cut.py [--reports N] [--cuts K] [--data-dir DIR] [--database-url URL]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select

from ringtrace.domain.models import LinkKey
from ringtrace.indicators import extract_report
from ringtrace.intake.received import receive
from ringtrace.services import decisions
from ringtrace.services.intake import ingest
from ringtrace.services.relink import bulk_load, relink
from ringtrace.settings import Settings
from ringtrace.store import Store
from ringtrace.store.tables import indicators, report_clusters, report_core


def _phone(i: int) -> str:
    return f"+6581{i:06d}"


def _doc(n: int, phone: str) -> dict[str, Any]:
    return {
        "external_id": f"B-{n:07d}", "source": "bench", "received_at": "2024-07-02T21:14:00+08:00",
        "offender_identifiers": [{"type": "phone", "value": phone}],
        "narrative": "He threatened to send the video to my contacts.",
    }  # fmt: skip


def corpus(reports: int, seed: int) -> tuple[list[str], list[str]]:
    """Rings and background as JSON lines; and the rings' numbers."""
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
    return docs, rings


def build(store: Store, docs: list[str], chunk: int = 10_000) -> None:
    """Receive and extract each report as ingest does, store them in bulk, then link the
    whole store with the batch linker."""
    for i in range(0, len(docs), chunk):
        items = []
        for line in docs[i : i + chunk]:
            received = receive(line)
            items.append((received, extract_report(received.doc)))
        bulk_load(store, items)
        if (i // chunk) % 10 == 9:
            print(f"  {min(i + chunk, len(docs))} reports stored", flush=True)
    t = time.perf_counter()
    relink(store)
    print(f"  linked with the batch linker in {time.perf_counter() - t:.1f} s", flush=True)


def state(store: Store) -> tuple[Any, ...]:
    """Everything linking decides: clusters, core groups, every indicator's status."""
    with store.engine.connect() as conn:
        return (
            sorted(conn.execute(select(report_clusters)).all()),
            sorted(conn.execute(select(report_core)).all()),
            sorted(
                conn.execute(
                    select(indicators.c.report_id, indicators.c.type, indicators.c.value,
                           indicators.c.linkable, indicators.c.excluded_reason, indicators.c.strong)
                ).all()
            ),
        )  # fmt: skip


def check_sample(docs: list[str], tmp: Path) -> None:
    """Build the same reports through ingest and through the bulk path; compare."""
    stores = []
    for name in ("ingest", "bulk"):
        store = Store.open(Settings(data_dir=tmp / name, actor="bench"))
        store.migrate()
        if name == "ingest":
            for line in docs:
                ingest(store, receive(line))
        else:
            build(store, docs)
        stores.append(store)
    same = state(stores[0]) == state(stores[1])
    for s in stores:
        s.close()
    if not same:
        sys.exit(f"the bulk builder's store differs from ingest's on {len(docs)} reports")
    print(f"bulk builder checked: identical to ingest on {len(docs)} reports")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--reports", type=int, default=50_000)
    ap.add_argument("--cuts", type=int, default=9)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument(
        "--cut-seed", type=int, default=None, help="which rings to cut (a reused store: others)"
    )
    ap.add_argument("--sample", type=int, default=3_000, help="reports built both ways")
    ap.add_argument("--data-dir", type=Path, default=None, help="keep (or reuse) the store here")
    ap.add_argument("--database-url", default=None, help="PostgreSQL instead of SQLite")
    args = ap.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.1f} ({os.cpu_count()} cores)")
    docs, rings = corpus(args.reports, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        if args.sample:
            sample_docs, _ = corpus(args.sample, args.seed + 1)
            check_sample(sample_docs, Path(tmp))
        data = args.data_dir or Path(tmp) / "store"
        store = Store.open(Settings(data_dir=data, actor="bench", database_url=args.database_url))
        store.migrate()
        have = store.reports.count()
        if have == 0:
            t = time.perf_counter()
            build(store, docs)
            print(f"{args.reports} reports stored and linked in {time.perf_counter() - t:.0f} s")
        else:
            print(f"reusing the store in {data}: {have} reports")
        acks: list[float] = []
        acked: list[int] = []
        failures: list[str] = []
        stop = threading.Event()

        def submit() -> None:
            n = 10_000_000 + have
            while not stop.is_set():
                n += 1
                received = receive(json.dumps(_doc(n, _phone(900_000 + n % 1000))))
                s = time.perf_counter()
                try:
                    result = ingest(store, received)
                except Exception as e:  # counted: any failed submission fails the run
                    failures.append(type(e).__name__)
                    continue
                acks.append(time.perf_counter() - s)
                acked.append(result.report_id)

        worker = threading.Thread(target=submit, daemon=True)
        worker.start()
        time.sleep(0.5)  # submissions under way before the first cut
        cuts = []
        for phone in random.Random(args.seed if args.cut_seed is None else args.cut_seed).sample(
            rings, min(args.cuts, len(rings))
        ):
            s = time.perf_counter()
            decisions.cut(store, LinkKey("phone", phone), reason="benchmark")
            cuts.append(time.perf_counter() - s)
            time.sleep(0.2)
        stop.set()
        worker.join()
        placed = store.clusters.assignments()
        lost = [r for r in acked if r not in placed]
        store.close()
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    median = statistics.median(cuts)
    print(
        f"cut on {args.reports} reports: median {median * 1000:.1f} ms, "
        f"worst {max(cuts) * 1000:.1f} ms over {len(cuts)} cuts"
    )
    print("each cut (ms, sorted):", " ".join(f"{c * 1000:.0f}" for c in sorted(cuts)))
    print(
        f"submissions meanwhile: {len(acked)} acknowledged, {len(failures)} failed, "
        f"{len(lost)} acknowledged but not stored; acknowledged in median "
        f"{statistics.median(acks) * 1000 if acks else 0:.1f} ms, "
        f"worst {max(acks, default=0) * 1000:.1f} ms"
    )
    if median >= 1.0 or failures or lost or not acked:
        sys.exit("FAILED: the median cut took 1 s or more, or a submission was not acknowledged")


if __name__ == "__main__":
    main()
