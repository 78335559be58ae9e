"""The triage queue of one agency: from the columns kept for lists, against opening every
document as it did before (the same queue, worked out from each decrypted document).

Builds a SQLite store of ``--reports`` synthetic reports (some under 18, some with a
deadline, rings of a few), then times both ways alternately, ``--rounds`` times each, in one
process, and checks that they give the same queue. Prints the median of each and how many
documents each opened.

Usage: python benchmarks/triage.py [--reports N] [--rounds K] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from ringtrace.evidence.keys import KeyRing
from ringtrace.services import triage_queue
from ringtrace.services.intake import import_lines
from ringtrace.settings import Settings
from ringtrace.store import Store
from ringtrace.triage.urgency import assess


def _doc(n: int, rng: random.Random) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "external_id": f"T-{n:07d}", "source": "bench", "received_at": "2024-07-02T21:14:00+08:00",
        "offender_identifiers": [{"type": "phone", "value": f"+6581{n // 3:06d}"}],
        "narrative": "He threatened to send the video to my contacts. " * 4,
        "messages": [{"from": "offender", "text": rng.choice(["Pay now", "Pay within 24 hours"])}],
    }  # fmt: skip
    if rng.random() < 0.1:
        doc["reporter"] = {"age_band": "under-18"}
    return doc


def by_documents(store: Store, own: set[int]) -> list[tuple[int, int, list[str]]]:
    """The queue as it was worked out before the columns: every document opened."""
    sizes = dict(store.clusters.ids(min_size=2))
    out = []
    for rid in sorted(own):
        d = store.reports.get(rid)
        s = d.summary
        in_ring = s.cluster_size > 1 and s.cluster_id in sizes
        u = assess(d.document, in_ring=in_ring, received_at=s.received_at)
        out.append((rid, u.score, u.reasons))
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reports", type=int, default=5000)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--data-dir", type=Path, default=None)
    args = p.parse_args()
    data = args.data_dir or Path(tempfile.mkdtemp(prefix="ringtrace-triage-"))
    store = Store.open(Settings(data_dir=data))
    store.migrate()
    rng = random.Random(7)
    docs = [json.dumps(_doc(n, rng)) for n in range(args.reports)]
    for i in range(0, len(docs), 5000):
        import_lines(store, docs[i : i + 5000])
    own = {r.id for r in store.reports.page(limit=10**9)}
    opened = [0]
    real_open = KeyRing.open

    def counting(self: KeyRing, sealed: bytes, aad: bytes, *, what: str) -> bytes:
        opened[0] += 1
        return real_open(self, sealed, aad, what=what)

    KeyRing.open = counting  # type: ignore[method-assign]
    times: dict[str, list[float]] = {"columns": [], "documents": []}
    opens: dict[str, int] = {}
    for _ in range(args.rounds):
        for name in ("columns", "documents"):
            opened[0] = 0
            t = time.perf_counter()
            if name == "columns":
                queue = triage_queue.queue(store, own)
                got = sorted((q["id"], q["score"], q["reasons"]) for q in queue)
            else:
                want = sorted(by_documents(store, own))
            times[name].append(time.perf_counter() - t)
            opens[name] = opened[0]
    assert got == want, "the two ways disagree"
    for name, ts in times.items():
        print(f"{name:9} median {statistics.median(ts) * 1000:8.1f} ms over {len(ts)} rounds, "
              f"{opens[name]} decryptions")  # fmt: skip
    print(f"{len(own)} reports, the same queue both ways")
    store.close()


if __name__ == "__main__":
    main()
