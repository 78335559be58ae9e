"""faiss's ``IndexBinaryMultiHash`` behind ringtrace's :class:`HashIndex` interface: the
named alternative that benchmarks/media.py compares with ringtrace's slot tables. It is a
benchmark's comparison only, so faiss-cpu is in the ``bench`` extra, not a dependency."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ringtrace.errors import InvalidMedia
from ringtrace.media.index import (
    DEFAULT_THRESHOLD,
    NBITS,
    SLOT_BITS,
    SLOTS,
    Match,
    _bits,
    _check_threshold,
)


class MultiHashIndex:
    kind = "faiss-multihash"

    def __init__(self) -> None:
        import faiss

        self._index: Any = faiss.IndexBinaryMultiHash(NBITS, SLOTS, SLOT_BITS)
        self._ids = np.zeros(0, dtype=np.int64)

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, ids: Sequence[int], hashes: Sequence[str] | np.ndarray) -> None:
        bits = _bits(hashes)
        if len(ids) != len(bits):
            raise InvalidMedia("as many ids as hashes are needed")
        self._index.add(bits)
        self._ids = np.concatenate([self._ids, np.asarray(ids, dtype=np.int64)])

    def search(
        self, queries: Sequence[str] | np.ndarray, threshold: int = DEFAULT_THRESHOLD
    ) -> list[list[Match]]:
        _check_threshold(threshold)
        q = _bits(queries)
        if len(q) == 0:
            return []
        # nflip bit flips per slot make the probe exact at this threshold (module docstring).
        self._index.nflip = threshold // SLOTS
        lims, dist, pos = self._index.range_search(q, threshold + 1)
        out: list[list[Match]] = []
        for k in range(len(q)):
            d = dist[lims[k] : lims[k + 1]]
            ids = self._ids[pos[lims[k] : lims[k + 1]]]
            order = np.lexsort((ids, d))
            out.append([(int(ids[i]), int(d[i])) for i in order])
        return out

    def save(self, folder: Path) -> None:
        import faiss

        folder.mkdir(parents=True, exist_ok=True)
        faiss.write_index_binary(self._index, str(folder / "index.faiss"))
        np.save(folder / "ids.npy", self._ids)
        (folder / "index.json").write_text(json.dumps({"kind": self.kind, "count": len(self)}))

    @classmethod
    def _load(cls, folder: Path) -> MultiHashIndex:
        import faiss

        idx = cls.__new__(cls)
        idx._index = faiss.read_index_binary(str(folder / "index.faiss"))
        idx._ids = np.load(folder / "ids.npy")
        return idx
