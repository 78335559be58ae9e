"""Scoring the linker on a labelled collection: the user's own, or a generated scenario."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ringtrace.evaluate import Score


@dataclass(frozen=True)
class Evaluated:
    label: str  # what was scored
    result: Score


def evaluate_file(reports: Path, truth: Path) -> Evaluated:
    """A JSON Lines collection with its ground truth."""
    from ringtrace.evaluate import load_truth, score_collection

    lines = reports.read_text(encoding="utf-8").splitlines()
    groups = load_truth(truth.read_text(encoding="utf-8"))
    # As `ringtrace import` reads it: attachment paths relative to the file's folder, and
    # the apps it brought analysed before the clusters are read (a ring may share nothing
    # but its app's signing key or server).
    return Evaluated(
        f"{reports.name}", score_collection(lines, groups, base_dir=reports.parent, apks=True)
    )


def evaluate_scenario(seed: int, background: int, hard: bool, classes: frozenset[str]) -> Evaluated:
    """The synthetic scenario, with these classes of real input planted."""
    from ringtrace.demo import generate
    from ringtrace.evaluate import score_collection

    scenario = generate(seed=seed, background=background, hard=hard, classes=classes)
    lines = [json.dumps(d, ensure_ascii=False) for d in scenario.reports]
    truth = {k: v for k, v in scenario.truth.items() if v is not None}
    label = f"scenario seed {seed}, classes {','.join(sorted(classes)) or 'none'}"
    return Evaluated(label, score_collection(lines, truth))
