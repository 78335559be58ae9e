"""Ring recovery on the demo scenario: ringtrace's linker beside two named alternatives.

Prints pairwise precision and recall against the generator's ground truth for:
  * ringtrace: normalised link keys, warninglist, incremental connected components;
  * raw-string matching: reports linked when they share a value exactly as typed
    (no normalisation, no warninglist), what a spreadsheet VLOOKUP gives;
  * MISP-style cap: ringtrace's keys, but a value stops correlating once it is seen in more
    than 20 reports (MISP's default correlation limit).
All three run in this process on the same data. Usage: python benchmarks/linking.py [--seed N]

``python benchmarks/linking.py --scale [linking_scale options]`` runs the scale benchmark
instead (1M reports on DuckDB and Spark beside Splink): see benchmarks/linking_scale.py.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from ringtrace.demo import generate
from ringtrace.indicators import extract_report
from ringtrace.indicators.warninglist import builtin
from ringtrace.intake.schema import parse_report
from ringtrace.linking.evaluation import PairwiseScore, bcubed, pairwise
from ringtrace.linking.specificity import WEAK_TYPES
from ringtrace.services.intake import import_lines
from ringtrace.settings import Settings
from ringtrace.store import Store

Ref = tuple[str, str]


def components(keys_by_report: dict[Ref, set[tuple[str, str]]]) -> list[list[Ref]]:
    parent: dict[Ref, Ref] = {r: r for r in keys_by_report}

    def find(x: Ref) -> Ref:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    holders: dict[tuple[str, str], list[Ref]] = defaultdict(list)
    for ref, keys in keys_by_report.items():
        for k in keys:
            holders[k].append(ref)
    for refs in holders.values():
        for other in refs[1:]:
            parent[find(other)] = find(refs[0])
    groups: dict[Ref, list[Ref]] = defaultdict(list)
    for r in keys_by_report:
        groups[find(r)].append(r)
    return [g for g in groups.values() if len(g) > 1]


def raw_values(doc: dict[str, object]) -> set[tuple[str, str]]:
    out = set()
    for ident in doc.get("offender_identifiers", []) or []:  # type: ignore[union-attr]
        out.add(("raw", str(ident["value"])))  # type: ignore[index]
    for pay in doc.get("payments", []) or []:  # type: ignore[union-attr]
        if pay.get("account"):  # type: ignore[union-attr]
            out.add(("raw", str(pay["account"])))  # type: ignore[index]
    return out


def line(name: str, score: PairwiseScore, seconds: float, n: int) -> str:
    return (
        f"{name:28} precision {score.precision:6.3f}  recall {score.recall:6.3f}  "
        f"F1 {score.f1:6.3f}  pairs {score.correct_pairs}/{score.true_pairs} "
        f"(predicted {score.predicted_pairs})  {n / seconds:8.0f} reports/s"
    )


def main(argv: Iterable[str] | None = None) -> None:
    args_in = list(argv) if argv is not None else sys.argv[1:]
    if "--scale" in args_in:
        sys.path.insert(0, str(Path(__file__).parent))
        import linking_scale

        linking_scale.main([a for a in args_in if a != "--scale"])
        return
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--background", type=int, default=2000)
    ap.add_argument(
        "--demo", action="store_true", help="the plain demo scenario instead of the hard cases"
    )
    ap.add_argument(
        "--classes",
        default="all",
        help="scenario classes of real input (comma-separated, all, none)",
    )
    args = ap.parse_args(args_in)
    from ringtrace.demo.scenario import CLASSES

    chosen = (
        frozenset(CLASSES)
        if args.classes == "all"
        else frozenset(c for c in args.classes.split(",") if c and c != "none")
    )
    scenario = generate(
        seed=args.seed, background=args.background, hard=not args.demo, classes=chosen
    )
    n = len(scenario.reports)
    print(
        f"scenario seed {args.seed}, classes {','.join(sorted(chosen)) or 'none'}: {n} reports, "
        f"rings {scenario.ring_sizes()}"
    )

    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(Settings(data_dir=Path(tmp)))
        store.migrate()
        t = time.perf_counter()
        import_lines(store, [json.dumps(d, ensure_ascii=False) for d in scenario.reports])
        ours_s = time.perf_counter() - t
        predicted = [[(r.source, r.external_id) for r in c.reports] for c in store.clusters.many()]
        store.close()
    print(line("ringtrace (SQLite, full)", pairwise(predicted, scenario.truth), ours_s, n))
    b3 = bcubed(predicted, scenario.truth)
    print(f"{'':28} B-cubed precision {b3.precision:.3f}  recall {b3.recall:.3f}  F1 {b3.f1:.3f}")

    t = time.perf_counter()
    raw = {(d["source"], d["external_id"]): raw_values(d) for d in scenario.reports}
    raw_clusters = components(raw)  # type: ignore[arg-type]
    raw_s = time.perf_counter() - t
    print(line("raw-string matching", pairwise(raw_clusters, scenario.truth), raw_s, n))

    t = time.perf_counter()
    keys: dict[Ref, set[tuple[str, str]]] = {}
    for d in scenario.reports:
        inds = extract_report(parse_report(d))
        keys[(str(d["source"]), str(d["external_id"]))] = {
            (i.type, i.value) for i in inds if i.linkable
        }
    # Every key the warninglist lets through, whatever its role and however it was written:
    # linking as it was before evidence roles and corroboration.
    t = time.perf_counter()
    wl = builtin()
    no_roles: dict[Ref, set[tuple[str, str]]] = {}
    for d in scenario.reports:
        doc = parse_report(d)
        own = doc.reporter.contact if doc.reporter else None
        no_roles[(str(d["source"]), str(d["external_id"]))] = {
            (i.type, i.value)
            for i in extract_report(doc)
            if wl.reason(i.type, i.value) is None
            and i.type not in WEAK_TYPES
            and not (own and any(o.raw in own for o in i.occurrences))
        }
    print(
        line(
            "no roles/corroboration/mule",
            pairwise(components(no_roles), scenario.truth),
            time.perf_counter() - t,
            n,
        )
    )
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for ks in keys.values():
        for k in ks:
            counts[k] += 1
    capped = {r: {k for k in ks if counts[k] <= 20} for r, ks in keys.items()}
    misp_s = time.perf_counter() - t
    print(line("MISP-style cap at 20", pairwise(components(capped), scenario.truth), misp_s, n))


if __name__ == "__main__":
    main()
