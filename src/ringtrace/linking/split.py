"""What a ring would become without some keys: the preview an analyst sees before a cut or
an "unrelated" decision is confirmed. Pure: the caller passes the ring's linkable keys."""

from __future__ import annotations

from collections.abc import Iterable

from ringtrace.domain.models import LinkKey
from ringtrace.linking.unionfind import UnionFind


def parts_without(
    members: Iterable[int],
    key_rows: Iterable[tuple[int, LinkKey]],
    removed: Iterable[LinkKey],
    merges: Iterable[tuple[int, int, str]] = (),
) -> list[list[int]]:
    """The connected parts of ``members`` joined by the keys in ``key_rows`` (report id, key)
    other than ``removed``, and by analysts' merges; largest part first, each sorted."""
    gone = set(removed)
    uf = UnionFind(members)
    uf.union_by_key((rid, key) for rid, key in key_rows if key not in gone and rid in uf.parent)
    for a, b, _ in merges:
        if a in uf.parent and b in uf.parent:
            uf.union(a, b)
    return uf.groups()
