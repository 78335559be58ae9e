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
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ringtrace.linking import specificity as rules
from ringtrace.linking.specificity import DEFAULT, SpecificityModel

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

    def rows(self, sql: str) -> list[tuple[Any, ...]]: ...


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


def base_keys_with_cues(keys_relation: str) -> Step:
    """Every row with its ``linkable``, ``strong`` and ``cue_strong`` columns: a key's holders
    for :func:`outvoted_keys` are all the reports that mention it, those that cite it or
    name it as a help line too."""
    return Step(
        f"SELECT report_id, key_type, key_value, linkable, strong, cue_strong FROM {keys_relation}",
        "rt_base_cues",
    )


def outvoted_keys(keys_relation: str, model: SpecificityModel) -> Step:
    """Keys whose strength rests on free-text cues in fewer than half of their holders
    (:func:`rules.outvoted`), over every row of the relation (``strong`` as extracted and
    ``cue_strong``), linkable or not; only keys with a linkable cue row (the others do not
    link anyway)."""
    firm = "COUNT(DISTINCT CASE WHEN strong AND NOT cue_strong THEN report_id END)"
    cue = "COUNT(DISTINCT CASE WHEN cue_strong THEN report_id END)"
    holders = "COUNT(DISTINCT report_id)"
    return Step(
        f"""
        SELECT key_type, key_value FROM {keys_relation}
        GROUP BY key_type, key_value
        HAVING {rules.sql_outvoted(firm, cue, holders, model)}
           AND SUM(CASE WHEN linkable AND cue_strong THEN 1 ELSE 0 END) > 0
        """,
        "rt_outvoted",
    )


def effective_keys(base: str, outvoted: str) -> Step:
    """The base keys with the strength the linker uses: a cue row of an outvoted key is
    uncertain."""
    return Step(
        f"""
        SELECT b.report_id, b.key_type, b.key_value,
               CASE WHEN o.key_type IS NOT NULL AND b.cue_strong THEN FALSE ELSE b.strong END
               AS strong
        FROM {base} b
        LEFT JOIN {outvoted} o ON b.key_type = o.key_type AND b.key_value = o.key_value
        WHERE b.linkable
        """,
        "rt_base",
        view=True,
    )


def specific_keys(base: str, model: SpecificityModel) -> Step:
    """Drop generic values (:func:`rules.is_generic`)."""
    return Step(
        f"""
        SELECT b.report_id, b.key_type, b.key_value, b.strong FROM {base} b JOIN (
            SELECT key_type, key_value FROM {base} GROUP BY key_type, key_value
            HAVING NOT ({rules.sql_is_generic("COUNT(DISTINCT report_id)", model)})
        ) s ON b.key_type = s.key_type AND b.key_value = s.key_value
        """,
        "rt_specific",
    )


def generic_keys(base: str, model: SpecificityModel) -> Step:
    """The generic values with how many reports hold each (their status's reason)."""
    return Step(
        f"""
        SELECT key_type, key_value, COUNT(DISTINCT report_id) AS n FROM {base}
        GROUP BY key_type, key_value
        HAVING {rules.sql_is_generic("COUNT(DISTINCT report_id)", model)}
        """,
        "rt_generic",
    )


def core_keys(specific: str) -> Step:
    """The core components' keys (:func:`rules.is_core_evidence`)."""
    return Step(
        f"SELECT report_id, key_type, key_value FROM {specific} "
        f"WHERE {rules.sql_is_core_evidence('key_type', 'strong')}",
        "rt_core_keys",
    )


def uncorroborated_keys(
    specific: str, core_labels: str, model: SpecificityModel, all_rows: str | None = None
) -> Step:
    """Keys that need corroboration (:func:`rules.needs_corroboration`), with their number
    of groups. ``all_rows``: every row of every key (those that cite a key or name it as a
    help line too), whose holders' groups are counted: the reports that cite a value are
    part of the crowd that shares it; and, with them, the holders' large groups (rings each
    linked by strong evidence, which a value mentioned in passing does not merge)."""
    strong_rows = "SUM(CASE WHEN k.strong THEN 1 ELSE 0 END)"
    if all_rows is None:
        groups = "COUNT(DISTINCT COALESCE(l.cluster_id, k.report_id))"
        return Step(
            f"""
            SELECT k.key_type, k.key_value, {groups} AS n FROM {specific} k
            LEFT JOIN {core_labels} l ON k.report_id = l.report_id
            GROUP BY k.key_type, k.key_value
            HAVING {rules.sql_needs_corroboration(strong_rows, groups, model)}
            """,
            "rt_uncorroborated",
        )
    groups = "COUNT(DISTINCT COALESCE(l.cluster_id, a.report_id))"
    large = (
        f"COUNT(DISTINCT CASE WHEN {rules.sql_is_large_group('s.n', model)} THEN l.cluster_id END)"
    )
    return Step(
        f"""
        WITH cand AS (
            SELECT k.key_type, k.key_value FROM {specific} k
            GROUP BY k.key_type, k.key_value HAVING {strong_rows} = 0
        ),
        sizes AS (SELECT cluster_id, COUNT(*) AS n FROM {core_labels} GROUP BY cluster_id)
        SELECT a.key_type, a.key_value, {groups} AS n FROM {all_rows} a
        JOIN cand c ON a.key_type = c.key_type AND a.key_value = c.key_value
        LEFT JOIN {core_labels} l ON a.report_id = l.report_id
        LEFT JOIN sizes s ON l.cluster_id = s.cluster_id
        GROUP BY a.key_type, a.key_value
        HAVING {rules.sql_needs_corroboration("0", groups, model, large)}
        """,
        "rt_uncorroborated",
    )


def bridging_payment_keys(specific: str, core_labels: str, model: SpecificityModel) -> Step:
    """Payment keys held in two or more large core groups (:func:`rules.bridges`), with
    their number of large groups."""
    return Step(
        f"""
        WITH sizes AS (SELECT cluster_id, COUNT(*) AS n FROM {core_labels} GROUP BY cluster_id)
        SELECT k.key_type, k.key_value, COUNT(DISTINCT l.cluster_id) AS n FROM {specific} k
        JOIN {core_labels} l ON k.report_id = l.report_id
        JOIN sizes s ON l.cluster_id = s.cluster_id
        WHERE {rules.sql_is_large_group("s.n", model)}
        GROUP BY k.key_type, k.key_value
        HAVING {rules.sql_bridges("k.key_type", "COUNT(DISTINCT l.cluster_id)")}
        """,
        "rt_bridges",
    )


def statuses(generic: str, uncorroborated: str | None, bridges: str) -> Step:
    """Every key with an automatic status, its kind and count, in the precedence of
    :func:`rules.status`: generic, then uncorroborated, then bridging."""
    parts = [f"SELECT key_type, key_value, 'generic' AS kind, n FROM {generic}"]
    if uncorroborated:
        parts.append(
            f"SELECT key_type, key_value, 'uncorroborated' AS kind, n FROM {uncorroborated}"
        )
    not_unc = (
        f" WHERE NOT EXISTS (SELECT 1 FROM {uncorroborated} u"
        f" WHERE u.key_type = b.key_type AND u.key_value = b.key_value)"
        if uncorroborated
        else ""
    )
    parts.append(f"SELECT b.key_type, b.key_value, 'bridge' AS kind, b.n FROM {bridges} b{not_unc}")
    return Step(" UNION ALL ".join(parts), "rt_statuses")


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
    # With ``details``: each report in a core group of two or more and its group, and
    # every key with an automatic status as (type, value, kind, count).
    core: dict[int, int] = field(default_factory=dict)
    statuses: list[tuple[str, str, str, int]] = field(default_factory=list)
    # With ``cues``: the keys whose cue rows were outvoted (uncertain).
    outvoted: list[tuple[str, str]] = field(default_factory=list)


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
    model: SpecificityModel = DEFAULT,
    strength: bool = False,
    cues: bool = False,
    details: bool = False,
) -> BatchResult:
    """The whole batch linker over a relation of ``(report_id, key_type, key_value,
    linkable[, strong])`` rows, with the rules of :mod:`ringtrace.linking.specificity`:
    generic values, bridging payment accounts and, with ``strength`` (a ``strong``
    column), keys mentioned in passing by unrelated groups; then the clusters.
    ``details``: also fetch the core groups and every key's status, which a store needs to
    take the result over (a rebuild). ``cues``: the relation also has ``cue_strong`` (the
    row is strong only by a cue in free text), and outvoted cues count as uncertain."""
    if cues:
        engine.materialise(base_keys_with_cues(keys_relation))
        engine.materialise(outvoted_keys("rt_base_cues", model))
        engine.materialise(effective_keys("rt_base_cues", "rt_outvoted"))
    else:
        engine.materialise(base_keys(keys_relation, strength=strength))
    engine.materialise(specific_keys("rt_base", model))
    engine.materialise(core_keys("rt_specific"))
    core_labels, core_rounds = components(engine, "rt_core_keys", None, "rt_core_")
    engine.materialise(bridging_payment_keys("rt_specific", core_labels, model))
    bridges = engine.scalar("SELECT COUNT(*) FROM rt_bridges")
    uncorroborated = None
    if strength or cues:
        engine.materialise(
            uncorroborated_keys("rt_specific", core_labels, model, "rt_base_cues" if cues else None)
        )
        uncorroborated = "rt_uncorroborated"
    engine.materialise(final_keys("rt_specific", "rt_bridges", uncorroborated))
    label_table, rounds = components(engine, "rt_final_keys", merges_relation, "rt_final_")
    assignments = engine.mapping(f"SELECT report_id, cluster_id FROM {label_table}")
    if not details:
        return BatchResult(assignments, rounds, core_rounds, bridges)
    engine.materialise(generic_keys("rt_base", model))
    engine.materialise(statuses("rt_generic", uncorroborated, "rt_bridges"))
    return BatchResult(
        assignments, rounds, core_rounds, bridges,
        core=engine.mapping(f"SELECT report_id, cluster_id FROM {core_labels}"),
        statuses=[
            (str(t), str(v), str(kind), int(n))
            for t, v, kind, n in engine.rows(
                "SELECT key_type, key_value, kind, n FROM rt_statuses"
            )
        ],
        outvoted=[
            (str(t), str(v))
            for t, v in engine.rows("SELECT key_type, key_value FROM rt_outvoted")
        ] if cues else [],
    )  # fmt: skip


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
