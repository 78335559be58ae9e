"""What a ring would become without some keys: the preview an analyst sees before a cut or
an "unrelated" decision is confirmed. Pure: the caller passes the ring's linkable keys."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from ringtrace.domain.models import LinkKey


def parts_without(
    members: Iterable[int],
    key_rows: Iterable[tuple[int, LinkKey]],
    removed: Iterable[LinkKey],
    merges: Iterable[tuple[int, int, str]] = (),
) -> list[list[int]]:
    """The connected parts of ``members`` joined by the keys in ``key_rows`` (report id, key)
    other than ``removed``, and by analysts' merges; largest part first, each sorted."""
    gone = set(removed)
    parent: dict[int, int] = {m: m for m in members}

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(a: int, b: int) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    first_holder: dict[LinkKey, int] = {}
    for rid, key in key_rows:
        if key in gone or rid not in parent:
            continue
        if key in first_holder:
            union(first_holder[key], rid)
        else:
            first_holder[key] = rid
    for a, b, _ in merges:
        if a in parent and b in parent:
            union(a, b)
    groups: dict[int, list[int]] = defaultdict(list)
    for m in parent:
        groups[find(m)].append(m)
    return sorted((sorted(g) for g in groups.values()), key=lambda g: (-len(g), g[0]))
