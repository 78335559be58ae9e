"""Cluster maintenance in the store: the online linker's storage, the specificity statuses
of link keys, the local recompute that analysts' cuts, merges' withdrawals and APK analyses
use, and taking over a batch result (a rebuild).

The rules come from :mod:`ringtrace.linking.specificity`; a local recompute clusters with
the one union-find (:mod:`ringtrace.linking.unionfind`), and a full recompute goes through
the batch linker (:func:`batch_recompute`, DuckDB), never a replay of every report.

Two component structures are kept: *core* components over strong, non-payment evidence
(rows marked ``strong``: a structured field, the app, or text saying the victim installed
from it), and the final clusters over every key that may link. A payment key's status (does
it link, or is it a possible mule account bridging groups) and an uncertain key's (does it
link, or is it mentioned in passing by unrelated groups) depend on the core components of
their holders; neither kind of key is ever part of the core, so their statuses never feed
back into it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Connection,
    Table,
    and_,
    bindparam,
    delete,
    func,
    insert,
    literal_column,
    or_,
    select,
    text,
    update,
)

from ringtrace.domain.models import LinkKey
from ringtrace.linking import specificity as rules
from ringtrace.linking.batch import BatchResult, link
from ringtrace.linking.incremental import link_report, place
from ringtrace.linking.specificity import DEFAULT, GENERIC_PREFIX, PAYMENT_TYPES, SpecificityModel
from ringtrace.linking.unionfind import UnionFind
from ringtrace.store import analyst
from ringtrace.store.tables import audit_log, indicators, report_clusters, report_core, reports


class SqlComponents:
    """:class:`ringtrace.linking.ComponentStore` on one open transaction, for the final
    clusters (``core=False``) or the core components over non-payment keys."""

    def __init__(self, conn: Connection, *, core: bool = False) -> None:
        self.conn = conn
        self.core = core
        self.table: Table = report_core if core else report_clusters
        self.col = self.table.c.core_id if core else self.table.c.cluster_id
        self.merged = False

    def clusters_sharing(self, keys: Sequence[LinkKey], exclude: int) -> set[int]:
        pairs = [(k.type, k.value) for k in keys if not (self.core and k.type in PAYMENT_TYPES)]
        found: set[int] = set()
        for i in range(0, len(pairs), 200):
            rows = self.conn.execute(
                select(self.col)
                .distinct()
                .select_from(
                    indicators.join(self.table, self.table.c.report_id == indicators.c.report_id)
                )
                .where(
                    # OR of equalities, not a row-value IN: SQLite's planner uses the
                    # (type, value) index only for the former (a full scan otherwise).
                    or_(
                        *(
                            and_(indicators.c.type == t, indicators.c.value == v)
                            for t, v in pairs[i : i + 200]
                        )
                    ),
                    indicators.c.linkable.is_(True),
                    indicators.c.report_id != exclude,
                    *([indicators.c.strong.is_(True)] if self.core else []),
                )
            )
            found.update(int(r[0]) for r in rows)
        return found

    def move_clusters(self, from_ids: set[int], to_id: int) -> None:
        self.merged = True
        self.conn.execute(
            update(self.table).where(self.col.in_(sorted(from_ids))).values({self.col.key: to_id})
        )

    def assign(self, report_id: int, cluster_id: int) -> None:
        self.conn.execute(
            insert(self.table).values({"report_id": report_id, self.col.key: cluster_id})
        )


def _linkable_keys(conn: Connection, report_id: int) -> list[LinkKey]:
    return [
        LinkKey(t, v)
        for t, v in conn.execute(
            select(indicators.c.type, indicators.c.value).where(
                indicators.c.report_id == report_id, indicators.c.linkable.is_(True)
            )
        )
    ]


def _desired(
    conn: Connection, key: LinkKey, holders: list[int], model: SpecificityModel, strong_rows: int
) -> str | None:
    """The automatic status a key should have (None: it links): :func:`rules.status`, with
    the holders' core groups counted only when the rules need them."""
    held = sorted(set(holders))
    groups = large = mention_large = 0
    if not rules.is_generic(len(held), model):
        if strong_rows == 0:
            # Every report that mentions the key is of the crowd: those that cite it or
            # name it as a help line too (batch.uncorroborated_keys counts the same).
            mention = select(indicators.c.report_id).where(
                indicators.c.type == key.type, indicators.c.value == key.value
            )
            cores = set(
                conn.execute(
                    select(report_core.c.core_id).where(report_core.c.report_id.in_(mention))
                ).scalars()
            )
            groups = len(cores)
            if groups >= 2:  # one group: no two rings to keep apart
                mention_large = _large_groups(conn, mention, model)
        if key.type in PAYMENT_TYPES:
            large = _large_groups(conn, held, model)
    return rules.status(
        key.type, len(held), strong_rows, int(groups), int(large), model, int(mention_large)
    )


def _large_groups(conn: Connection, reports: Any, model: SpecificityModel) -> int:
    """How many of the reports' core groups are large (:func:`rules.is_large_group`); only
    their groups are sized, not every group in the store."""
    theirs = select(report_core.c.core_id).where(report_core.c.report_id.in_(reports))
    sizes = (
        select(report_core.c.core_id, func.count().label("n"))
        .where(report_core.c.core_id.in_(theirs))
        .group_by(report_core.c.core_id)
        .subquery()
    )
    return int(
        conn.execute(
            select(func.count())
            .select_from(sizes)
            .where(text(rules.sql_is_large_group(sizes.c.n.name, model)))
        ).scalar_one()
    )


def _set_statuses(
    conn: Connection,
    keys: Sequence[LinkKey],
    model: SpecificityModel,
    known: dict[LinkKey, list[_Row]] | None = None,
) -> list[tuple[LinkKey, int]]:
    """Bring the keys' automatic statuses up to date (their rows read in one query per 200
    keys, except those the caller ``known`` already); the keys whose status changed, in
    order, each with how many of its holders hold it as strong evidence."""
    rows: dict[LinkKey, list[_Row]] = dict(known or {})
    keys_to_read = [k for k in keys if k not in rows]
    for i in range(0, len(keys_to_read), 200):
        for r in conn.execute(
            select(
                indicators.c.id, indicators.c.report_id, indicators.c.excluded_reason,
                indicators.c.type, indicators.c.value, indicators.c.strong,
                indicators.c.cue_strong,
            ).where(
                or_(*(and_(indicators.c.type == k.type, indicators.c.value == k.value)
                      for k in keys_to_read[i : i + 200])),
                or_(
                    indicators.c.excluded_reason.is_(None),
                    indicators.c.excluded_reason.startswith(GENERIC_PREFIX),
                ),
            )
        ):  # fmt: skip
            rows.setdefault(LinkKey(r.type, r.value), []).append(
                _Row(
                    int(r.id), int(r.report_id), r.excluded_reason, bool(r.strong),
                    bool(r.cue_strong),
                )
            )  # fmt: skip
    flipped = []
    for key in keys:
        held = rows.get(key)
        if not held:
            continue
        strong_before = len({r.report_id for r in held if r.strong})
        held, restrengthened = _set_strength(conn, key, held, model)
        strong = {r.report_id for r in held if r.strong}
        want = _desired(conn, key, [r.report_id for r in held], model, len(strong))
        if all(r.excluded_reason == want for r in held):
            if restrengthened:
                flipped.append((key, max(len(strong), strong_before)))
            continue
        conn.execute(
            update(indicators)
            .where(indicators.c.id.in_([r.id for r in held]))
            .values(linkable=want is None, excluded_reason=want)
        )
        flipped.append((key, max(len(strong), strong_before)))
    return flipped


def _set_strength(
    conn: Connection, key: LinkKey, held: list[_Row], model: SpecificityModel
) -> tuple[list[_Row], bool]:
    """Give a key's cue rows the strength the linker uses (:func:`rules.outvoted`, counted
    over every report that mentions the key, those that cite it too); the rows as they
    now are, and whether any changed."""
    if not any(r.cue for r in held):
        return held, False
    firm: set[int] = set()
    cue: set[int] = set()
    holders: set[int] = set()
    for rid, st, cu in conn.execute(
        select(indicators.c.report_id, indicators.c.strong, indicators.c.cue_strong).where(
            indicators.c.type == key.type, indicators.c.value == key.value
        )
    ):
        holders.add(rid)
        if cu:
            cue.add(rid)
        elif st:
            firm.add(rid)
    want = not rules.outvoted(len(firm), len(cue), len(holders), model)
    stale = [r.id for r in held if r.cue and r.strong != want]
    if not stale:
        return held, False
    conn.execute(update(indicators).where(indicators.c.id.in_(stale)).values(strong=want))
    return [replace(r, strong=want) if r.cue else r for r in held], True


@dataclass(frozen=True)
class _Row:
    id: int
    report_id: int
    excluded_reason: str | None
    strong: bool  # the strength the linker uses
    cue: bool = False  # strong only by a cue in free text, as extracted


def refresh_after_insert(
    conn: Connection,
    report_id: int,
    model: SpecificityModel = DEFAULT,
    inserted: Sequence[tuple[LinkKey, bool, bool]] | None = None,
) -> int:
    """Link a newly inserted report, keeping every key's status exact. Returns its cluster.
    ``inserted``: the report's keys, whether each was stored linkable and whether it is
    strong evidence, when the caller has them at hand (saves reading them back)."""
    if inserted is None:
        inserted = [
            (LinkKey(t, v), bool(ok), bool(st))
            for t, v, ok, st in conn.execute(
                select(
                    indicators.c.type, indicators.c.value, indicators.c.linkable,
                    indicators.c.strong,
                ).where(indicators.c.report_id == report_id)
            )
        ]  # fmt: skip
    keys = [k for k, _, _ in inserted]
    linkable = sorted({k for k, ok, _ in inserted if ok})
    own_strong = {k for k, ok, st in inserted if ok and st}
    # Every row of the report's keys with its holder's group and cluster, in one query: the
    # core link, the statuses and (unless a status flips) the final link are decided on it.
    seen = _key_rows(conn, keys)
    own_links = set(linkable)
    core = SqlComponents(conn, core=True)
    core_id = place(core, report_id, {
        r.core_id for r in seen
        if r.report_id != report_id and r.linkable and r.strong and r.core_id is not None
        and r.key in own_strong and r.key.type not in PAYMENT_TYPES
    })  # fmt: skip
    to_check = set(keys)
    if core.merged:
        # Groups joined: payment accounts held inside may stop (or start) bridging, and keys
        # mentioned in passing may now be corroborated.
        members = select(report_core.c.report_id).where(report_core.c.core_id == core_id)
        to_check |= {
            LinkKey(t, v)
            for t, v in conn.execute(
                select(indicators.c.type, indicators.c.value).where(
                    indicators.c.report_id.in_(members),
                    or_(indicators.c.type.in_(PAYMENT_TYPES), indicators.c.strong.is_(False)),
                )
            )
        }
    known: dict[LinkKey, list[_Row]] = {}
    for r in seen:
        if r.excluded_reason is None or r.excluded_reason.startswith(GENERIC_PREFIX):
            known.setdefault(r.key, []).append(
                _Row(r.id, r.report_id, r.excluded_reason, r.strong, r.cue)
            )
    flipped = _set_statuses(
        conn, sorted(to_check), model, known={k: known.get(k, []) for k in keys}
    )
    # A key that two reports hold as strong evidence is part of the core: when it flips
    # (a value became generic: rare), the core groups of its holders are recomputed, and
    # what depends on them. Any other flip (a payment account, a key mentioned in passing)
    # changes only the clusters that hold it.
    in_core = [k for k, n in flipped if _in_core(k, n)]
    if in_core:
        seeds = {report_id}
        for k in in_core:
            seeds |= _holders(conn, k)
        recompute_around(conn, seeds, model, keys=[k for k, _ in flipped])
        return _cluster_of(conn, report_id)
    affected = {report_id}
    for k, _ in flipped:
        affected |= _holders(conn, k)
    if affected == {report_id}:
        if flipped:
            return link_report(SqlComponents(conn), report_id, _linkable_keys(conn, report_id))
        # No status changed: the rows read above still say who links to whom.
        return place(SqlComponents(conn), report_id, {
            r.cluster_id for r in seen
            if r.report_id != report_id and r.linkable and r.cluster_id is not None
            and r.key in own_links
        })  # fmt: skip
    _regroup(conn, affected, core=False)
    return _cluster_of(conn, report_id)


@dataclass(frozen=True)
class _KeyRow:
    id: int
    report_id: int
    key: LinkKey
    linkable: bool
    excluded_reason: str | None
    core_id: int | None
    cluster_id: int | None
    strong: bool
    cue: bool


def _key_rows(conn: Connection, keys: Sequence[LinkKey]) -> list[_KeyRow]:
    """Every indicator row of ``keys``, with its report's core group and cluster."""
    out: list[_KeyRow] = []
    for i in range(0, len(keys), 200):
        for r in conn.execute(
            select(
                indicators.c.id, indicators.c.report_id, indicators.c.type, indicators.c.value,
                indicators.c.linkable, indicators.c.excluded_reason, report_core.c.core_id,
                report_clusters.c.cluster_id, indicators.c.strong, indicators.c.cue_strong,
            )
            .select_from(
                indicators.outerjoin(report_core, report_core.c.report_id == indicators.c.report_id)
                .outerjoin(report_clusters, report_clusters.c.report_id == indicators.c.report_id)
            )
            .where(
                or_(*(and_(indicators.c.type == k.type, indicators.c.value == k.value)
                      for k in keys[i : i + 200])),
                # Rows excluded for another reason (a warninglist, the reporter's own
                # number, a cut) neither link nor have a status to keep: never read them.
                or_(
                    indicators.c.excluded_reason.is_(None),
                    indicators.c.excluded_reason.startswith(GENERIC_PREFIX),
                ),
            )
        ).all():  # fmt: skip
            out.append(_KeyRow(
                int(r.id), int(r.report_id), LinkKey(r.type, r.value), bool(r.linkable),
                r.excluded_reason, r.core_id, r.cluster_id, bool(r.strong), bool(r.cue_strong),
            ))  # fmt: skip
    return out


def _holders(conn: Connection, key: LinkKey) -> set[int]:
    return {
        int(r[0])
        for r in conn.execute(
            select(indicators.c.report_id).where(
                indicators.c.type == key.type, indicators.c.value == key.value
            )
        )
    }


def _cluster_of(conn: Connection, report_id: int) -> int:
    return int(
        conn.execute(
            select(report_clusters.c.cluster_id).where(report_clusters.c.report_id == report_id)
        ).scalar_one()
    )


def _in_core(key: LinkKey, strong_holders: int) -> bool:
    """Whether a key's status flip can change the core groups: two reports hold it as core
    evidence."""
    return strong_holders >= 2 and rules.is_core_evidence(key.type, True)


def _chunks(ids: set[int] | list[int], size: int = 5000) -> list[list[int]]:
    ordered = sorted(ids)
    return [ordered[i : i + size] for i in range(0, len(ordered), size)]


def _regroup(conn: Connection, seeds: set[int], *, core: bool) -> set[int]:
    """Recompute the core groups (``core``) or the clusters of ``seeds`` with one in-memory
    union-find, reading only the reports they can reach: the seeds' current groups, the
    holders of their keys, those holders' groups, and so on (for clusters, analysts' merges
    too). Returns the reports regrouped. Its cost is bounded by the groups involved, not by
    the store: every read is by report, group or key, through an index."""
    table: Table = report_core if core else report_clusters
    col = report_core.c.core_id if core else report_clusters.c.cluster_id
    # A row links in the core when it is core evidence, in the clusters when it is linkable.
    links: list[ColumnElement[bool]] = [indicators.c.linkable.is_(True)]
    if core:
        core_sql = rules.sql_is_core_evidence("indicators.type", "indicators.strong")
        links.append(literal_column(f"({core_sql})", Boolean))
    merge_pairs = [] if core else [(a, b) for a, b, _ in analyst.merges(conn)]
    members: set[int] = set()
    seen: set[LinkKey] = set()
    rows: list[tuple[int, LinkKey]] = []
    frontier = set(seeds)
    while frontier:
        groups: set[int] = set()
        for chunk in _chunks(frontier):
            groups.update(
                int(g)
                for g in conn.execute(select(col).where(table.c.report_id.in_(chunk))).scalars()
            )
        reached = set(frontier)
        for chunk in _chunks(groups):
            reached.update(
                int(r) for r in conn.execute(
                    select(table.c.report_id).where(col.in_(chunk))
                ).scalars()
            )  # fmt: skip
        new = reached - members
        members |= new
        fresh: set[LinkKey] = set()
        for chunk in _chunks(new):
            for r in conn.execute(
                select(indicators.c.report_id, indicators.c.type, indicators.c.value).where(
                    indicators.c.report_id.in_(chunk), *links
                )
            ):
                key = LinkKey(r.type, r.value)
                rows.append((int(r.report_id), key))
                if key not in seen:
                    fresh.add(key)
        seen |= fresh
        # Holders of the new keys outside the members join next round (their rows then).
        frontier = set()
        ordered = sorted(fresh)
        for i in range(0, len(ordered), 200):
            frontier.update(
                int(r) for r in conn.execute(
                    select(indicators.c.report_id).where(
                        or_(*(and_(indicators.c.type == k.type, indicators.c.value == k.value)
                              for k in ordered[i : i + 200])),
                        *links,
                    )
                ).scalars()
            )  # fmt: skip
        for a, b in merge_pairs:
            if a in members or b in members:
                frontier.update((a, b))
        frontier -= members
    uf = UnionFind(members)
    uf.union_by_key(rows)
    for a, b in merge_pairs:
        if a in members and b in members:
            uf.union(a, b)
    for chunk in _chunks(members):
        conn.execute(delete(table).where(table.c.report_id.in_(chunk)))
    out = [{"report_id": r, col.key: g} for r, g in uf.labels().items()]
    for i in range(0, len(out), 5000):
        conn.execute(insert(table), out[i : i + 5000])
    return members


def recompute_around(
    conn: Connection,
    report_ids: set[int],
    model: SpecificityModel = DEFAULT,
    keys: Sequence[LinkKey] = (),
) -> None:
    """Recompute only what ``report_ids`` (whose keys changed: a cut, a withdrawal, keys
    added by an APK analysis) can affect: the statuses of ``keys``, the core groups of the
    reports and of the holders of any core key whose status flipped (a value became
    generic, or stopped being), the statuses of the payment and uncertain keys held inside
    those groups, and the clusters holding any of them."""
    if not report_ids and not keys:
        return
    flipped = _set_statuses(conn, sorted(set(keys)), model)
    seeds = set(report_ids)
    for k, n in flipped:
        if _in_core(k, n):
            seeds |= _holders(conn, k)
    regrouped = _regroup(conn, seeds, core=True)
    # The groups may have split (or joined): recheck what depends on them. Only generic
    # flips (decided above: the number of holders did not change since) touch the core.
    to_check: set[LinkKey] = set()
    for chunk in _chunks(regrouped):
        to_check.update(
            LinkKey(t, v)
            for t, v in conn.execute(
                select(indicators.c.type, indicators.c.value).where(
                    indicators.c.report_id.in_(chunk),
                    or_(indicators.c.type.in_(PAYMENT_TYPES), indicators.c.strong.is_(False)),
                )
            )
        )
    flipped += _set_statuses(conn, sorted(to_check), model)
    affected = regrouped | seeds
    for k, _ in flipped:
        affected |= _holders(conn, k)
    _regroup(conn, affected, core=False)


def batch_recompute(
    connect: Callable[[], AbstractContextManager[Connection]], model: SpecificityModel = DEFAULT
) -> tuple[BatchResult, int, int]:
    """Link every report up to now with the batch linker (DuckDB), reading the store's rows
    in short transactions (``connect`` opens one), never under the write lock for long.
    Returns the result, the last report id it covers and the audit log's head when reading
    began (see :func:`changed_since`)."""
    import pyarrow as pa

    from ringtrace.linking.engines import DuckDBEngine

    with connect() as conn:
        upto = int(conn.execute(select(func.max(reports.c.id))).scalar() or 0)
        seq = int(conn.execute(select(func.max(audit_log.c.seq))).scalar() or 0)
        merge_rows = [(a, b) for a, b, _ in analyst.merges(conn) if max(a, b) <= upto]
    columns: dict[str, list[Any]] = {
        "report_id": [], "key_type": [], "key_value": [], "strong": [], "cue_strong": [],
        "linkable": [],
    }  # fmt: skip
    step = 100_000
    for lo in range(0, upto + 1, step):
        with connect() as conn:
            for rid, t, v, st, cue, ok, why in conn.execute(
                select(indicators.c.report_id, indicators.c.type, indicators.c.value,
                       indicators.c.strong, indicators.c.cue_strong, indicators.c.linkable,
                       indicators.c.excluded_reason)
                .where(
                    indicators.c.report_id > lo, indicators.c.report_id <= min(lo + step, upto)
                )
            ):  # fmt: skip
                columns["report_id"].append(int(rid))
                columns["key_type"].append(t)
                columns["key_value"].append(v)
                # The strength as extracted: the batch decides again what is outvoted.
                columns["strong"].append(bool(st) or bool(cue))
                columns["cue_strong"].append(bool(cue))
                # Automatic statuses are decided again here; other exclusions stand (their
                # rows still count as holders when cues are outvoted).
                columns["linkable"].append(bool(ok) or rules.is_automatic(why))
    keys = pa.table({
        "report_id": pa.array(columns["report_id"], pa.int64()),
        "key_type": pa.array(columns["key_type"], pa.string()),
        "key_value": pa.array(columns["key_value"], pa.string()),
        "strong": pa.array(columns["strong"], pa.bool_()),
        "cue_strong": pa.array(columns["cue_strong"], pa.bool_()),
        "linkable": pa.array(columns["linkable"], pa.bool_()),
    })  # fmt: skip
    columns.clear()
    merges = pa.table({
        "a": pa.array([a for a, _ in merge_rows], pa.int64()),
        "b": pa.array([b for _, b in merge_rows], pa.int64()),
    })  # fmt: skip
    engine = DuckDBEngine()
    engine.con.register("rt_store_keys", keys)
    engine.con.register("rt_store_merges", merges)
    result = link(
        engine, "rt_store_keys", "rt_store_merges", model=model, strength=True, cues=True,
        details=True,
    )  # fmt: skip
    engine.con.close()
    return result, upto, seq


# Audited actions that change the indicators or decisions of reports already stored.
_CHANGES = ("apk.analyze", "cluster.merge", "cluster.split", "report.withdraw", "store.rebuild",
            "clusters.batch_link", "suggestion.accept")  # fmt: skip


def changed_since(conn: Connection, seq: int) -> bool:
    """Whether anything that a batch result read from the store could miss (a cut, a merge,
    a withdrawal, an APK analysis) was audited after ``seq``. New reports are not: they
    come after the result's last report id and are linked on top of it."""
    return (
        conn.execute(
            select(audit_log.c.seq)
            .where(audit_log.c.seq > seq, audit_log.c.action.in_(_CHANGES))
            .limit(1)
        ).first()
        is not None
    )


def apply_result(conn: Connection, result: BatchResult, upto: int) -> int:
    """Take over a batch result covering the reports up to ``upto``: every key's automatic
    status, the core groups and the clusters. Reports added since are then linked on top,
    as the online linker would have (:func:`recompute_around`). Returns how many reports
    the result moved to another cluster."""
    conn.execute(
        update(indicators)
        .where(indicators.c.excluded_reason.startswith(GENERIC_PREFIX))
        .values(linkable=True, excluded_reason=None)
    )
    if result.statuses:
        conn.execute(
            update(indicators)
            .where(
                indicators.c.type == bindparam("t"), indicators.c.value == bindparam("v"),
                indicators.c.excluded_reason.is_(None), indicators.c.report_id <= upto,
            )
            .values(linkable=False, excluded_reason=bindparam("why")),
            [{"t": t, "v": v, "why": rules.reason(kind, n)} for t, v, kind, n in result.statuses],
        )  # fmt: skip
    # The strength each cue row has: outvoted keys' cue rows are uncertain.
    conn.execute(
        update(indicators)
        .where(indicators.c.cue_strong.is_(True), indicators.c.report_id <= upto)
        .values(strong=True)
    )
    if result.outvoted:
        conn.execute(
            update(indicators)
            .where(
                indicators.c.type == bindparam("t"), indicators.c.value == bindparam("v"),
                indicators.c.cue_strong.is_(True), indicators.c.report_id <= upto,
            )
            .values(strong=False),
            [{"t": t, "v": v} for t, v in result.outvoted],
        )  # fmt: skip
    ids = [int(r) for r in conn.execute(select(reports.c.id).order_by(reports.c.id)).scalars()]
    moved = 0
    for table, labels in ((report_core, result.core), (report_clusters, result.assignments)):
        col = table.c.core_id if table is report_core else table.c.cluster_id
        current = dict(conn.execute(select(table.c.report_id, col)).all())
        # Only the rows that change are written: a rebuild that changes nothing writes
        # nothing here, however large the store.
        changed = [r for r in ids if current.get(r) != labels.get(r, r)]
        if table is report_clusters:
            moved = len(changed)
        for chunk in _chunks(changed, 10_000):
            conn.execute(delete(table).where(table.c.report_id.in_(chunk)))
            conn.execute(
                insert(table), [{"report_id": r, col.key: labels.get(r, r)} for r in chunk]
            )
    newer = {r for r in ids if r > upto}
    if newer:
        held: set[LinkKey] = set()
        for chunk in _chunks(newer):
            held.update(
                LinkKey(t, v)
                for t, v in conn.execute(
                    select(indicators.c.type, indicators.c.value).where(
                        indicators.c.report_id.in_(chunk)
                    )
                )
            )
        recompute_around(conn, newer, keys=sorted(held))
    return moved
