"""Running the batch linker against the store: export to Parquet, link on DuckDB or Spark,
compare with the online linker, write the assignments back (audited)."""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from ringtrace.errors import ConfigurationError
from ringtrace.linking.batch import Engine, link
from ringtrace.linking.specificity import DEFAULT
from ringtrace.services import relink
from ringtrace.store.database import Store


@dataclass(frozen=True)
class BatchRun:
    engine: str
    reports: int
    clusters: int
    rounds: int
    bridges: int
    differences: int  # reports the batch placed differently from the online linker
    moved: int  # reports whose stored cluster changed when written back
    seconds: float


def make_engine(name: str) -> Engine:
    if name == "duckdb":
        from ringtrace.linking.engines import DuckDBEngine

        return DuckDBEngine()
    if name == "spark":
        try:
            from ringtrace.linking.engines import SparkEngine

            return SparkEngine(SparkEngine.local())
        except ImportError as e:
            raise ConfigurationError("Spark needs the extra: pip install 'ringtrace[spark]'") from e
    raise ConfigurationError(f"unknown engine {name!r}: use duckdb or spark")


def link_from_parquet(engine: Engine, folder: Path) -> tuple[dict[int, int], int, int]:
    keys = engine.dialect.parquet(str(folder / "keys.parquet"))
    merges = engine.dialect.parquet(str(folder / "merges.parquet"))
    import pyarrow.parquet as pq

    # An export made before evidence strength was recorded has no ``strong`` column: every
    # row then counts as strong, as it did when it was made.
    names = pq.read_schema(folder / "keys.parquet").names
    has_strength = "strong" in names
    # One made before cue strength was recorded keeps every strong row strong.
    has_cues = "cue_strong" in names
    result = link(engine, keys, merges, model=DEFAULT, strength=has_strength, cues=has_cues)
    return result.assignments, result.rounds, result.bridges


def run(
    store: Store, engine_name: str, folder: Path | None = None, *, write: bool = True
) -> BatchRun:
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="ringtrace-link-") as tmp:
        source = folder or Path(tmp)
        if folder is None or not (folder / "keys.parquet").exists():
            relink.export_parquet(store, source)
        engine = make_engine(engine_name)
        assignments, rounds, bridges = link_from_parquet(engine, source)
    online = store.clusters.assignments()
    ids = list(online)
    differences = sum(1 for rid in ids if assignments.get(rid, rid) != online[rid])
    moved = relink.apply_batch(store, assignments, engine_name) if write else 0
    clusters = len(set(assignments.values()))
    return BatchRun(
        engine_name, len(ids), clusters, rounds, bridges, differences, moved,
        time.perf_counter() - started,
    )  # fmt: skip
