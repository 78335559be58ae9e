"""The one union-find: connected components of reports in memory, each named by its
smallest report id (as the online linker and the batch engines name clusters).

Used wherever a bounded set of reports is clustered at once: the local recompute after a
cut, a withdrawal or an APK analysis (``store/components.py``) and the analyst's preview of
a split (``linking/split.py``)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable


class UnionFind:
    def __init__(self, nodes: Iterable[int] = ()) -> None:
        self.parent: dict[int, int] = {n: n for n in nodes}

    def add(self, node: int) -> None:
        self.parent.setdefault(node, node)

    def find(self, x: int) -> int:
        parent = self.parent
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:  # path compression
            parent[x], x = root, parent[x]
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            # The smaller id stays the root, so a component's root is its smallest member.
            self.parent[max(ra, rb)] = min(ra, rb)

    def union_by_key(self, rows: Iterable[tuple[int, Hashable]]) -> None:
        """Join the reports holding the same key: each to the key's first holder, so the
        work is one union per row, never one per pair."""
        first: dict[Hashable, int] = {}
        for rid, key in rows:
            self.add(rid)
            held = first.setdefault(key, rid)
            if held != rid:
                self.union(held, rid)

    def labels(self) -> dict[int, int]:
        """Every node and its component's smallest node."""
        return {n: self.find(n) for n in self.parent}

    def groups(self) -> list[list[int]]:
        """The components, each sorted; largest first, then by smallest member."""
        out: dict[int, list[int]] = defaultdict(list)
        for n in self.parent:
            out[self.find(n)].append(n)
        return sorted((sorted(g) for g in out.values()), key=lambda g: (-len(g), g[0]))
