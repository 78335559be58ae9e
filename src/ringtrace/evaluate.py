"""Scoring any labelled collection of reports: link it in a temporary store and compare the
clusters with the ground truth (what `ringtrace evaluate` prints).

The truth is a JSON object ``{"source|external_id": group}``; a report absent from it (or
with a null group) belongs to no group and makes no true pairs.
"""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ringtrace.errors import InvalidReport
from ringtrace.linking.evaluation import BCubed, PairwiseScore, bcubed, pairwise
from ringtrace.settings import Settings

Ref = tuple[str, str]


def load_truth(text: str) -> dict[Ref, Hashable]:
    """Parse a truth file: ``{"source|external_id": group}``."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise InvalidReport(f"the truth file is not JSON: {e}") from e
    if not isinstance(data, dict):
        raise InvalidReport('the truth file must be a JSON object {"source|external_id": group}')
    out: dict[Ref, Hashable] = {}
    for key, group in data.items():
        source, sep, external_id = str(key).partition("|")
        if not sep or not source or not external_id:
            raise InvalidReport(f"truth key {key!r} is not 'source|external_id'")
        if group is None:
            continue
        out[(source, external_id)] = group if isinstance(group, Hashable) else json.dumps(group)
    return out


@dataclass(frozen=True)
class Score:
    reports: int
    groups: dict[str, int]  # true group -> size
    pairwise: PairwiseScore
    bcubed: BCubed

    def to_dict(self) -> dict[str, Any]:
        pw, b3 = self.pairwise, self.bcubed
        return {
            "reports": self.reports, "rings": self.groups,
            "pairwise": {"precision": pw.precision, "recall": pw.recall, "f1": pw.f1,
                         "predicted_pairs": pw.predicted_pairs, "true_pairs": pw.true_pairs,
                         "correct_pairs": pw.correct_pairs},
            "bcubed": {"precision": b3.precision, "recall": b3.recall, "f1": b3.f1},
        }  # fmt: skip


def score(
    predicted: Sequence[Sequence[Ref]], refs: Sequence[Ref], truth: Mapping[Ref, Hashable]
) -> Score:
    """Score predicted clusters of ``refs`` (every report of the collection)."""
    full: dict[Ref, Hashable | None] = {r: truth.get(r) for r in refs}
    sizes = Counter(str(g) for g in full.values() if g is not None)
    return Score(
        len(refs), dict(sorted(sizes.items())), pairwise(predicted, full), bcubed(predicted, full)
    )


def score_collection(
    lines: Sequence[str],
    truth: Mapping[Ref, Hashable],
    *,
    base_dir: Path | None = None,
    apks: bool = False,
) -> Score:
    """Import JSON Lines reports into a temporary store, link them, and score the clusters.
    ``base_dir``: where attachment paths are read from (as the CLI importer does); ``apks``:
    analyse the apps the reports attach before scoring, as `ringtrace import` does."""
    from ringtrace.services.intake import import_lines
    from ringtrace.store import Store

    with tempfile.TemporaryDirectory(prefix="ringtrace-eval-") as tmp:
        store = Store.open(Settings(data_dir=Path(tmp), actor="evaluate"))
        try:
            store.migrate()
            import_lines(store, lines, base_dir=base_dir)
            if apks and store.apk.pending():
                from ringtrace.services import apk_jobs

                apk_jobs.run(store)
            predicted = [
                [(r.source, r.external_id) for r in c.reports] for c in store.clusters.many()
            ]
        finally:
            store.close()
    refs = list(dict.fromkeys(_ref(line) for line in lines if line.strip()))
    return score(predicted, refs, truth)


def _ref(line: str) -> Ref:
    doc = json.loads(line)  # import_lines has validated every line
    return str(doc["source"]), str(doc["external_id"])
