"""Scoring predicted clusters against ground truth (pairwise precision and recall)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass


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


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def pairwise(
    predicted: Iterable[Iterable[Hashable]], truth: Mapping[Hashable, Hashable | None]
) -> PairwiseScore:
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
