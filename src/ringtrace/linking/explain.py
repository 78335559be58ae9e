"""Why two reports are in one cluster: the shortest chain of shared keys between them."""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass

from ringtrace.domain.models import LinkKey


@dataclass(frozen=True)
class Hop:
    """From one report to the next: the key they share, or an analyst's merge."""

    from_report: int
    key: LinkKey | None
    to_report: int
    merge_reason: str | None = None


def shortest_chain(
    a: int,
    b: int,
    key_rows: Iterable[tuple[int, LinkKey]],
    merges: Iterable[tuple[int, int, str]] = (),
) -> list[Hop] | None:
    """Breadth-first search over reports joined by linkable keys (and analysts' merges).
    Returns the hops from ``a`` to ``b``, ``[]`` when ``a == b``, None when unconnected."""
    holders: dict[LinkKey, list[int]] = defaultdict(list)
    keys_of: dict[int, list[LinkKey]] = defaultdict(list)
    for rid, k in key_rows:
        holders[k].append(rid)
        keys_of[rid].append(k)
    merged: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for x, y, reason in merges:
        merged[x].append((y, reason))
        merged[y].append((x, reason))
    if a == b:
        return []
    came: dict[int, Hop] = {}
    seen = {a}
    queue = deque([a])
    while queue:
        r = queue.popleft()
        steps: list[tuple[LinkKey | None, int, str | None]] = [
            (k, other, None) for k in sorted(keys_of[r]) for other in sorted(holders[k])
        ]
        steps += [(None, other, reason) for other, reason in merged[r]]
        for via, other, why in steps:
            if other in seen:
                continue
            seen.add(other)
            came[other] = Hop(r, via, other, why)
            if other == b:
                chain = [came[b]]
                while chain[-1].from_report != a:
                    chain.append(came[chain[-1].from_report])
                return list(reversed(chain))
            queue.append(other)
    return None
