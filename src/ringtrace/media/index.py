"""Find stored PDQ hashes within a Hamming distance of a query, exactly.

One interface (:class:`HashIndex`), two implementations:

- :class:`BruteForceIndex` compares the query with every stored hash (numpy XOR and popcount).
  Exact by construction; the right choice for small sets.
- :class:`SlotTableIndex`, the default for large sets: the multi-hash scheme Meta's tools use
  (16 slots of 16 bits). Two hashes within distance ``t`` differ in at most ``t // 16`` bits
  in at least one slot (pigeonhole), so probing every slot with every pattern of up to
  ``t // 16`` flipped bits finds every match: exact at the threshold, not approximate. Each
  slot is a table sorted by that slot's value, holding its own copy of the hashes, so a probe
  reads one contiguous run (32 bytes x 16 per stored hash: about 0.5 GiB for a million).
  Candidates are checked with their true distance. New hashes wait in a small brute-force
  buffer until the tables are rebuilt (:data:`COMPACT_RATIO`).
The named alternative, faiss's ``IndexBinaryMultiHash`` with the same 16 x 16-bit slots, is
exact too but its bit-flip probing measured 8-10x slower than the slot tables; it lives in
``benchmarks/faiss_index.py`` and is compared there (docs/decisions.md).

:func:`make_index` picks by size (:data:`LARGE_FROM`, measured in benchmarks/media.py). All
keep caller-given integer ids, grow incrementally with :meth:`add`, and persist to a folder
(``save``; :func:`load_index`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, Self

import numpy as np

from ringtrace.errors import InvalidMedia
from ringtrace.media.pdq import DEFAULT_THRESHOLD, parse_pdq

NBITS = 256
NBYTES = 32
SLOTS = 16
SLOT_BITS = 16
# Below this many stored hashes the brute force answers a query about as fast as the slot
# tables do (benchmarks/media.py); above it the tables win by a growing margin.
LARGE_FROM = 20_000
# Rebuild the slot tables when the pending buffer exceeds this share of the indexed hashes.
COMPACT_RATIO = 0.125
COMPACT_MIN = 4096
# Queries per chunk when a batch is spread over threads.
BATCH = 100

Match = tuple[int, int]  # (id, distance)


def to_bits(hashes: Sequence[str]) -> np.ndarray:
    """PDQ hex strings as an (n, 32) uint8 array."""
    if not hashes:
        return np.zeros((0, NBYTES), dtype=np.uint8)
    joined = "".join(parse_pdq(h) for h in hashes)
    return np.frombuffer(bytes.fromhex(joined), dtype=np.uint8).reshape(-1, NBYTES).copy()


class HashIndex(Protocol):
    kind: str

    def __len__(self) -> int: ...

    def add(self, ids: Sequence[int], hashes: Sequence[str] | np.ndarray) -> None: ...

    def search(
        self, queries: Sequence[str] | np.ndarray, threshold: int = DEFAULT_THRESHOLD
    ) -> list[list[Match]]: ...

    def save(self, folder: Path) -> None: ...


def _bits(hashes: Sequence[str] | np.ndarray) -> np.ndarray:
    if isinstance(hashes, np.ndarray):
        if hashes.ndim != 2 or hashes.shape[1] != NBYTES or hashes.dtype != np.uint8:
            raise InvalidMedia("hash arrays are (n, 32) uint8")
        return np.ascontiguousarray(hashes)
    return to_bits(hashes)


def _check_threshold(threshold: int) -> None:
    if not 0 <= threshold < NBITS:
        raise InvalidMedia(f"threshold must be between 0 and {NBITS - 1}")


class BruteForceIndex:
    kind = "bruteforce"

    def __init__(self) -> None:
        self._ids = np.zeros(0, dtype=np.int64)
        self._bits = np.zeros((0, NBYTES), dtype=np.uint8)

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, ids: Sequence[int], hashes: Sequence[str] | np.ndarray) -> None:
        bits = _bits(hashes)
        if len(ids) != len(bits):
            raise InvalidMedia("as many ids as hashes are needed")
        self._ids = np.concatenate([self._ids, np.asarray(ids, dtype=np.int64)])
        self._bits = np.concatenate([self._bits, bits])

    def search(
        self, queries: Sequence[str] | np.ndarray, threshold: int = DEFAULT_THRESHOLD
    ) -> list[list[Match]]:
        _check_threshold(threshold)
        out: list[list[Match]] = []
        for q in _bits(queries):
            dist = np.bitwise_count(self._bits ^ q).sum(axis=1, dtype=np.int32)
            hit = np.flatnonzero(dist <= threshold)
            order = hit[np.lexsort((self._ids[hit], dist[hit]))]
            out.append([(int(self._ids[i]), int(dist[i])) for i in order])
        return out

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        np.save(folder / "ids.npy", self._ids)
        np.save(folder / "hashes.npy", self._bits)
        (folder / "index.json").write_text(json.dumps({"kind": self.kind, "count": len(self)}))

    @classmethod
    def _load(cls, folder: Path) -> Self:
        idx = cls()
        idx._ids = np.load(folder / "ids.npy")
        idx._bits = np.load(folder / "hashes.npy")
        return idx


class SlotTableIndex(BruteForceIndex):
    """Keeps every hash as the brute force does (ids, bits, saving), plus the slot tables."""

    kind = "slot-tables"

    def __init__(self) -> None:
        super().__init__()
        self._indexed = 0
        self._offsets = np.zeros((SLOTS, (1 << SLOT_BITS) + 1), dtype=np.int64)
        self._order = np.zeros(0, dtype=np.int64)
        self._rows = np.zeros(0, dtype="V32")
        self._pending = BruteForceIndex()

    def add(self, ids: Sequence[int], hashes: Sequence[str] | np.ndarray) -> None:
        bits = _bits(hashes)
        super().add(ids, bits)
        self._pending.add(ids, bits)
        if len(self._pending) > max(COMPACT_MIN, COMPACT_RATIO * self._indexed):
            self.compact()

    def compact(self) -> None:
        """Rebuild the slot tables over every hash added so far."""
        n = len(self._bits)
        keys = self._bits.view(">u2").astype(np.int64)  # (n, 16): slot values, big-endian
        order = np.empty((SLOTS, n), dtype=np.int64)
        offsets = np.zeros((SLOTS, (1 << SLOT_BITS) + 1), dtype=np.int64)
        rows = np.ascontiguousarray(self._bits).view("V32").ravel()
        sorted_rows = np.empty((SLOTS, n), dtype="V32")
        for s in range(SLOTS):
            order[s] = np.argsort(keys[:, s], kind="stable")
            np.cumsum(np.bincount(keys[:, s], minlength=1 << SLOT_BITS), out=offsets[s, 1:])
            sorted_rows[s] = rows[order[s]]
        self._order, self._offsets, self._rows = order.ravel(), offsets, sorted_rows.ravel()
        self._indexed = n
        self._pending = BruteForceIndex()

    def _probe_patterns(self, flips: int) -> np.ndarray:
        from itertools import combinations

        pats = [0]
        for k in range(1, flips + 1):
            pats += [sum(1 << b for b in c) for c in combinations(range(SLOT_BITS), k)]
        return np.asarray(pats, dtype=np.int64)

    def _search_tables(self, q: np.ndarray, threshold: int) -> list[dict[int, int]]:
        m, n = len(q), self._indexed
        found: list[dict[int, int]] = [{} for _ in range(m)]
        if not (m and n):
            return found
        pats = self._probe_patterns(threshold // SLOTS)
        probes = q.view(">u2").astype(np.int64)[:, :, None] ^ pats[None, None, :]
        slot = np.broadcast_to(np.arange(SLOTS)[:, None], probes.shape[1:])[None]
        lo = self._offsets[slot, probes]
        count = (self._offsets[slot, probes + 1] - lo).ravel()
        ends = np.cumsum(count)
        starts = (slot * n + lo).ravel() - (ends - count)
        pos = np.repeat(starts, count) + np.arange(int(ends[-1]))
        cand = self._rows[pos].view(np.uint64).reshape(-1, 4)
        per_query = count.reshape(m, -1).sum(axis=1)
        qw = q.view(np.uint64)
        dist = np.bitwise_count(cand[:, 0] ^ np.repeat(qw[:, 0], per_query)).astype(np.int32)
        for w in range(1, 4):
            dist += np.bitwise_count(cand[:, w] ^ np.repeat(qw[:, w], per_query))
        hit = np.flatnonzero(dist <= threshold)
        owner = np.searchsorted(np.cumsum(per_query), hit, side="right")
        stored = self._order[pos[hit]]
        for k, i, d in zip(owner.tolist(), stored.tolist(), dist[hit].tolist(), strict=True):
            found[k][i] = d
        return found

    def search(
        self, queries: Sequence[str] | np.ndarray, threshold: int = DEFAULT_THRESHOLD
    ) -> list[list[Match]]:
        _check_threshold(threshold)
        q = _bits(queries)
        m = len(q)
        if m > BATCH:
            # numpy releases the GIL in the gathers that dominate, so threads use every core.
            from concurrent.futures import ThreadPoolExecutor

            chunks = [q[i : i + BATCH] for i in range(0, m, BATCH)]
            with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
                parts = pool.map(lambda c: self._search_tables(c, threshold), chunks)
                found = [f for part in parts for f in part]
        else:
            found = self._search_tables(q, threshold)
        out: list[list[Match]] = []
        extra = self._pending.search(q, threshold) if len(self._pending) else [[] for _ in range(m)]
        for k in range(m):
            matches = [(int(self._ids[i]), d) for i, d in found[k].items()] + extra[k]
            out.append(sorted(matches, key=lambda md: (md[1], md[0])))
        return out

    @classmethod
    def _load(cls, folder: Path) -> Self:
        idx = super()._load(folder)
        idx.compact()
        return idx


def make_index(expected_size: int = 0) -> HashIndex:
    """The faster exact index for about ``expected_size`` hashes."""
    return SlotTableIndex() if expected_size >= LARGE_FROM else BruteForceIndex()


def load_index(folder: Path) -> HashIndex:
    """Open an index saved with ``save``."""
    try:
        meta = json.loads((folder / "index.json").read_text())
    except (OSError, ValueError):
        raise InvalidMedia(f"no hash index in {folder}") from None
    loaded: HashIndex
    if meta.get("kind") == SlotTableIndex.kind:
        loaded = SlotTableIndex._load(folder)
    elif meta.get("kind") == BruteForceIndex.kind:
        loaded = BruteForceIndex._load(folder)
    else:
        raise InvalidMedia(f"unknown index kind in {folder}")
    if len(loaded) != meta.get("count"):
        raise InvalidMedia(f"the index in {folder} is incomplete")
    return loaded
