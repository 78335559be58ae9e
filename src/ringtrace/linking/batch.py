"""The batch linker: connected components over shared keys, as SQL steps.

One algorithm, written once. Each step is a pure function that returns SQL and the name of
the table it produces (splink's pattern); an engine (DuckDB embedded, Spark for more than one
machine) materialises the steps. Dialect differences live in :class:`Dialect`.

Components are found with the large-star / small-star algorithm (Kiveris et al., "Connected
Components in MapReduce and Beyond", SoCC 2014), which converges in O(log² n) rounds — a
chain of 100,000 reports needs a few dozen rounds, where min-label propagation would need
100,000. Every component is named by its smallest report id, as the online linker names it.

Before each round, leaves are set aside: a report whose only edge goes to a smaller report
(a victim's report that shares one key with the ring's first report, which is most of them)
is in its neighbour's component, whatever the rounds decide. Setting it aside keeps the
component's smallest report in the graph, so the rounds run on what is left (a fraction of
the edges) and each leaf takes its neighbour's label at the end.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Step:
    sql: str
    output: str
    view: bool = False  # read once by the next step: not worth writing out


class Dialect(Protocol):
    name: str

    def parquet(self, path: str) -> str:
        """A relation reading a Parquet file or folder."""
        ...


class DuckDBDialect:
    name = "duckdb"

    def parquet(self, path: str) -> str:
        return f"read_parquet('{path}')"


class SparkDialect:
    name = "spark"

    def parquet(self, path: str) -> str:
        return f"parquet.`{path}`"


class Engine(Protocol):
    dialect: Dialect

    def materialise(self, step: Step) -> None: ...

    def scalar(self, sql: str) -> int: ...

    def mapping(self, sql: str) -> dict[int, int]:
        """A two-column query's rows as a dict of the first column to the second."""
        ...


# -- steps -------------------------------------------------------------------------------


def base_keys(keys_relation: str, *, strength: bool = False) -> Step:
    """Keys that may link before specificity: ``linkable`` in the export is false only for
    exclusions decided elsewhere (warninglist, reporter's own contact, weak type, cut).
    ``strength``: the relation has a ``strong`` column (offender evidence that links on its
    own); without it every row counts as strong."""
    # The export holds one row per (report, key); star_edges de-duplicates its edges anyway.
    strong = "strong" if strength else "TRUE AS strong"
    return Step(
        f"SELECT report_id, key_type, key_value, {strong} FROM {keys_relation} WHERE linkable",
        "rt_base",
        view=True,
    )


def specific_keys(base: str, generic_df: int) -> Step:
    """Drop values held by more than ``generic_df`` reports (generic, not one ring's)."""
    return Step(
        f"""
        SELECT b.report_id, b.key_type, b.key_value, b.strong FROM {base} b JOIN (
            SELECT key_type, key_value FROM {base} GROUP BY key_type, key_value
            HAVING COUNT(DISTINCT report_id) <= {int(generic_df)}
        ) s ON b.key_type = s.key_type AND b.key_value = s.key_value
        """,
        "rt_specific",
    )


def _in_list(values: Iterable[str]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in sorted(values))


def core_keys(specific: str, payment_types: Iterable[str]) -> Step:
    """Strong, non-payment evidence: the core components' keys."""
    return Step(
        f"SELECT report_id, key_type, key_value FROM {specific} "
        f"WHERE strong AND key_type NOT IN ({_in_list(payment_types)})",
        "rt_core_keys",
    )


def uncorroborated_keys(specific: str, core_labels: str, min_groups: int) -> Step:
    """Keys with no strong row whose holders fall into ``min_groups`` or more core groups
    (a report outside every core component is a group of its own)."""
    return Step(
        f"""
        SELECT k.key_type, k.key_value FROM {specific} k
        LEFT JOIN {core_labels} l ON k.report_id = l.report_id
        GROUP BY k.key_type, k.key_value
        HAVING SUM(CASE WHEN k.strong THEN 1 ELSE 0 END) = 0
           AND COUNT(DISTINCT COALESCE(l.cluster_id, k.report_id)) >= {int(min_groups)}
        """,
        "rt_uncorroborated",
    )


def bridging_payment_keys(
    specific: str, core_labels: str, payment_types: Iterable[str], min_group: int
) -> Step:
    """Payment keys whose holders fall into two or more core groups of at least
    ``min_group`` reports (possible mule accounts)."""
    return Step(
        f"""
        WITH sizes AS (SELECT cluster_id, COUNT(*) AS n FROM {core_labels} GROUP BY cluster_id)
        SELECT k.key_type, k.key_value FROM {specific} k
        JOIN {core_labels} l ON k.report_id = l.report_id
        JOIN sizes s ON l.cluster_id = s.cluster_id
        WHERE k.key_type IN ({_in_list(payment_types)}) AND s.n >= {int(min_group)}
        GROUP BY k.key_type, k.key_value HAVING COUNT(DISTINCT l.cluster_id) >= 2
        """,
        "rt_bridges",
    )


def final_keys(specific: str, bridges: str, uncorroborated: str | None = None) -> Step:
    """The keys that link: not bridging payment accounts, not uncorroborated."""
    uncorroborated_join = (
        f" LEFT JOIN {uncorroborated} u ON k.key_type = u.key_type AND k.key_value = u.key_value"
        if uncorroborated
        else ""
    )
    return Step(
        f"""
        SELECT k.report_id, k.key_type, k.key_value FROM {specific} k
        LEFT JOIN {bridges} b ON k.key_type = b.key_type AND k.key_value = b.key_value
        {uncorroborated_join}
        WHERE b.key_type IS NULL{" AND u.key_type IS NULL" if uncorroborated else ""}
        """,
        "rt_final_keys",
    )


def star_edges(keys: str, merges_relation: str | None, out: str) -> Step:
    """Each report to the smallest report sharing a key with it (a star per key: as many
    edges as key occurrences, never quadratic), plus analysts' merges.

    Edges are stored once, from the larger report to the smaller (``src > dst``); the steps
    below read both directions where they need a node's whole neighbourhood. That halves
    what every round writes and de-duplicates."""
    merges = (
        f" UNION SELECT GREATEST(a, b) AS src, LEAST(a, b) AS dst"
        f" FROM {merges_relation} WHERE a <> b"
        if merges_relation
        else ""
    )
    return Step(
        f"""
        WITH first_holder AS (
            SELECT key_type, key_value, MIN(report_id) AS root
            FROM {keys} GROUP BY key_type, key_value
        )
        SELECT DISTINCT k.report_id AS src, f.root AS dst
        FROM {keys} k JOIN first_holder f
          ON k.key_type = f.key_type AND k.key_value = f.key_value
        WHERE k.report_id <> f.root{merges}
        """,
        out,
    )


def large_star(edges: str, out: str) -> Step:
    """For each node u with m = min(u and its neighbours): connect every larger neighbour
    of u to m.

    Every larger neighbour is above u, so m is u's smallest smaller neighbour (or u): one
    grouping of the stored edges by ``src`` finds it, without reading the edges in both
    directions. The larger neighbours of u are the ``src`` of the edges whose ``dst`` is u.
    """
    return Step(
        f"""
        WITH m AS (SELECT src AS u, MIN(dst) AS m FROM {edges} GROUP BY src)
        SELECT DISTINCT e.src AS src, COALESCE(m.m, e.dst) AS dst
        FROM {edges} e LEFT JOIN m ON e.dst = m.u
        """,
        out,
    )


def small_star(edges: str, out: str) -> Step:
    """For each node u with m = min(u and its smaller neighbours): connect u and each
    smaller neighbour to m. A node's smaller neighbours are exactly its stored edges."""
    return Step(
        f"""
        WITH m AS (SELECT src AS u, MIN(dst) AS m FROM {edges} GROUP BY src)
        SELECT DISTINCT src, dst FROM (
            SELECT e.dst AS src, m.m AS dst FROM {edges} e JOIN m ON e.src = m.u WHERE e.dst <> m.m
            UNION ALL SELECT u AS src, m AS dst FROM m
        ) x
        """,
        out,
    )


def not_yet_stars(edges: str) -> str:
    """SQL counting what keeps the graph from being a forest of stars centred on each
    component's smallest node (0 once converged): a node with two smaller neighbours, or an
    edge to a node that itself has a smaller neighbour."""
    return f"""
        SELECT (SELECT COUNT(*) FROM (SELECT src FROM {edges} GROUP BY src HAVING COUNT(*) > 1) a)
             + (SELECT COUNT(*) FROM {edges} e WHERE e.dst IN (SELECT src FROM {edges}))
    """


def labels(edges: str, out: str) -> Step:
    """Each linked report and its component's smallest report id (the star's centre)."""
    return Step(
        f"SELECT src AS report_id, dst AS cluster_id FROM {edges} "
        f"UNION SELECT dst AS report_id, dst AS cluster_id FROM {edges}",
        out,
    )


def leaves(edges: str, out: str) -> Step:
    """Edges ``(leaf, parent)`` of the reports whose only edge goes to a smaller report.

    A leaf is in its parent's component and is never the component's smallest report, so it
    can leave the graph: the rounds go on without it and it takes its parent's label at the
    end (:func:`leaf_labels`). A parent never leaves in the same round as its leaf (its edge
    to the leaf goes to a larger report)."""
    # Written as IN / NOT EXISTS, which both engines run as semi and anti joins: Spark then
    # estimates the output's size as the input's, where an inner or outer join's estimate is
    # the product of its inputs' and compounds round after round.
    return Step(
        f"""
        SELECT src, dst FROM {edges} WHERE src IN (
            SELECT node FROM (SELECT src AS node FROM {edges} UNION ALL SELECT dst FROM {edges}) n
            GROUP BY node HAVING COUNT(*) = 1
        )
        """,
        out,
    )


def without_leaves(edges: str, leaf_edges: str, out: str) -> Step:
    return Step(
        f"SELECT e.src, e.dst FROM {edges} e "
        f"WHERE NOT EXISTS (SELECT 1 FROM {leaf_edges} l WHERE l.src = e.src)",
        out,
    )


def leaf_labels(leaf_edges: str, known: Sequence[str], out: str) -> Step:
    """The labels of one round's leaves: their parent's label, from the final stars or from
    the leaves set aside in later rounds (``known``). A parent with neither lost all its
    edges to leaves: it is its component's smallest report, so the label is the parent."""
    lookup = " UNION ALL ".join(f"SELECT report_id, cluster_id FROM {k}" for k in known)
    return Step(
        f"""
        SELECT l.src AS report_id, COALESCE(k.cluster_id, l.dst) AS cluster_id
        FROM {leaf_edges} l LEFT JOIN ({lookup}) k ON l.dst = k.report_id
        """,
        out,
    )


def all_labels(star_labels: str, leaf_label_tables: Sequence[str], out: str) -> Step:
    """The stars' labels, the leaves' labels, and the parents left alone by their leaves
    (labelled by themselves: they appear as a cluster id but not yet as a report)."""
    if not leaf_label_tables:
        return Step(f"SELECT report_id, cluster_id FROM {star_labels}", out)
    peeled = " UNION ALL ".join(f"SELECT report_id, cluster_id FROM {t}" for t in leaf_label_tables)
    return Step(
        f"""
        WITH peeled AS ({peeled})
        SELECT report_id, cluster_id FROM {star_labels}
        UNION ALL SELECT report_id, cluster_id FROM peeled
        UNION ALL SELECT DISTINCT p.cluster_id, p.cluster_id FROM peeled p
            LEFT JOIN {star_labels} s ON p.cluster_id = s.report_id WHERE s.report_id IS NULL
        """,
        out,
    )


# -- the algorithm -----------------------------------------------------------------------


@dataclass(frozen=True)
class BatchResult:
    assignments: dict[int, int]  # report_id -> cluster_id, for reports linked to another
    rounds: int
    core_rounds: int = 0
    bridges: int = 0


def edges_from(relation: str, a: str, b: str, out: str) -> Step:
    """Edges handed over ready-made (columns ``a`` and ``b``), in the stored form
    (``src > dst``, each once)."""
    return Step(
        f"SELECT DISTINCT GREATEST({a}, {b}) AS src, LEAST({a}, {b}) AS dst "
        f"FROM {relation} WHERE {a} <> {b}",
        out,
    )


def components(
    engine: Engine,
    keys: str,
    merges_relation: str | None,
    prefix: str,
    max_rounds: int = 200,
    *,
    first: Step | None = None,
) -> tuple[str, int]:
    """Connected components of the reports sharing ``keys`` (or of the edges ``first``
    makes); returns the labels table and the number of rounds."""
    engine.materialise(first or star_edges(keys, merges_relation, f"{prefix}e0"))
    current, rounds, set_aside = f"{prefix}e0", 0, []
    for rounds in range(1, max_rounds + 1):
        set_aside.append(f"{prefix}leaves{rounds}")
        engine.materialise(leaves(current, set_aside[-1]))
        engine.materialise(without_leaves(current, set_aside[-1], f"{prefix}rest"))
        engine.materialise(large_star(f"{prefix}rest", f"{prefix}large"))
        current = f"{prefix}e{rounds % 2 + 1}"
        engine.materialise(small_star(f"{prefix}large", current))
        if engine.scalar(not_yet_stars(current)) == 0:
            break
        log.info("batch linker %s round %d", prefix, rounds)
    else:
        raise RuntimeError(f"batch linker did not converge in {max_rounds} rounds")
    engine.materialise(labels(current, f"{prefix}stars"))
    # The leaves take their parents' labels, latest round first: a parent set aside in a
    # later round is labelled before its leaves are.
    known = [f"{prefix}stars"]
    for table in reversed(set_aside):
        engine.materialise(leaf_labels(table, known, f"{table}_labels"))
        known.append(f"{table}_labels")
    engine.materialise(all_labels(f"{prefix}stars", known[1:], f"{prefix}labels"))
    return f"{prefix}labels", rounds


def link(
    engine: Engine,
    keys_relation: str,
    merges_relation: str | None = None,
    *,
    generic_df: int = 5000,
    payment_types: Iterable[str] = (),
    bridge_min_group: int = 2,
    corroborate_min_groups: int | None = None,
) -> BatchResult:
    """The whole batch linker over a relation of ``(report_id, key_type, key_value,
    linkable[, strong])`` rows: specificity (generic values, bridging payment accounts and,
    with ``corroborate_min_groups`` and a ``strong`` column, keys mentioned in passing by
    unrelated groups), then the clusters, with the same rules as the online linker."""
    payment = sorted(payment_types)
    corroborate = corroborate_min_groups is not None
    engine.materialise(base_keys(keys_relation, strength=corroborate))
    engine.materialise(specific_keys("rt_base", generic_df))
    core_rounds, bridges = 0, 0
    final = "rt_specific"
    if payment or corroborate:
        engine.materialise(core_keys("rt_specific", payment or ["-"]))
        core_labels, core_rounds = components(engine, "rt_core_keys", None, "rt_core_")
        engine.materialise(
            bridging_payment_keys("rt_specific", core_labels, payment or ["-"], bridge_min_group)
        )
        bridges = engine.scalar("SELECT COUNT(*) FROM rt_bridges")
        uncorroborated = None
        if corroborate_min_groups is not None:
            engine.materialise(
                uncorroborated_keys("rt_specific", core_labels, corroborate_min_groups)
            )
            uncorroborated = "rt_uncorroborated"
        engine.materialise(final_keys("rt_specific", "rt_bridges", uncorroborated))
        final = "rt_final_keys"
    label_table, rounds = components(engine, final, merges_relation, "rt_final_")
    assignments = engine.mapping(f"SELECT report_id, cluster_id FROM {label_table}")
    return BatchResult(assignments, rounds, core_rounds, bridges)


def connected_components(
    engine: Engine, keys_relation: str, merges_relation: str | None = None
) -> BatchResult:
    """Plain connected components (no specificity rules) over linkable keys."""
    engine.materialise(base_keys(keys_relation))
    label_table, rounds = components(engine, "rt_base", merges_relation, "rt_cc_")
    return BatchResult(engine.mapping(f"SELECT report_id, cluster_id FROM {label_table}"), rounds)


def connected_components_from_edges(
    engine: Engine, edges_relation: str, a: str = "unique_id_l", b: str = "unique_id_r"
) -> BatchResult:
    """Connected components of an edge list (the same rounds as :func:`link`, without
    building the edges from keys): what ``benchmarks/linking_scale.py`` compares with
    Splink's clustering on the same edges."""
    first = edges_from(edges_relation, a, b, "rt_ed_e0")
    label_table, rounds = components(engine, "", None, "rt_ed_", first=first)
    return BatchResult(engine.mapping(f"SELECT report_id, cluster_id FROM {label_table}"), rounds)
