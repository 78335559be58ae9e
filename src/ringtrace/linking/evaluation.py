"""Scoring predicted clusters against ground truth (pairwise precision and recall)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar

K = TypeVar("K", bound=Hashable)
G = TypeVar("G", bound=Hashable)


@dataclass(frozen=True)
class PairwiseScore:
    precision: float
    recall: float
    predicted_pairs: int
    true_pairs: int
    correct_pairs: int

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 0.0 if p + r == 0 else 2 * p * r / (p + r)


@dataclass(frozen=True)
class BCubed:
    precision: float
    recall: float

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 0.0 if p + r == 0 else 2 * p * r / (p + r)


def bcubed(predicted: Iterable[Iterable[K]], truth: Mapping[K, G | None]) -> BCubed:
    """B-cubed precision and recall (Bagga & Baldwin): per item, the share of its predicted
    cluster that truly belongs with it, and the share of its true group it was put with.
    An item with no true group is a group of its own; unpredicted items are singletons."""
    cluster_of: dict[Hashable, int] = {}
    for i, cluster in enumerate(predicted):
        for m in cluster:
            cluster_of[m] = i
    groups: dict[Hashable, Hashable] = {
        item: (g if g is not None else ("solo", item)) for item, g in truth.items()
    }
    by_cluster: dict[Hashable, list[Hashable]] = {}
    by_group: dict[Hashable, list[Hashable]] = {}
    for item in truth:
        by_cluster.setdefault(cluster_of.get(item, ("solo", item)), []).append(item)
        by_group.setdefault(groups[item], []).append(item)
    p_sum = r_sum = 0.0
    for item in truth:
        c = by_cluster[cluster_of.get(item, ("solo", item))]
        g = by_group[groups[item]]
        both = sum(1 for x in c if groups[x] == groups[item])
        p_sum += both / len(c)
        r_sum += both / len(g)
    n = len(truth) or 1
    return BCubed(p_sum / n, r_sum / n)


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def pairwise(predicted: Iterable[Iterable[K]], truth: Mapping[K, G | None]) -> PairwiseScore:
    """Pairwise precision/recall of predicted clusters.

    ``truth`` maps every item to its true group, or None for an item that belongs to no
    group (it makes no true pairs). Items missing from ``predicted`` are singletons.
    """
    true_sizes = Counter(g for g in truth.values() if g is not None)
    true_pairs = sum(_pairs(n) for n in true_sizes.values())
    predicted_pairs = correct = 0
    for cluster in predicted:
        members = list(cluster)
        predicted_pairs += _pairs(len(members))
        groups = Counter(truth.get(m) for m in members)
        correct += sum(_pairs(n) for g, n in groups.items() if g is not None)
    precision = correct / predicted_pairs if predicted_pairs else 1.0
    recall = correct / true_pairs if true_pairs else 1.0
    return PairwiseScore(precision, recall, predicted_pairs, true_pairs, correct)
