"""Cluster maintenance in SQL: the online linker's storage, the specificity statuses of link
keys, and the full recompute that rebuilds, erasures and analysts' cuts use.

Two component structures are kept: *core* components over strong, non-payment evidence
(rows marked ``strong``: a structured field, the app, or text saying the victim installed
from it), and the final clusters over every key that may link. A payment key's status (does
it link, or is it a possible mule account bridging groups) and an uncertain key's (does it
link, or is it mentioned in passing by unrelated groups) depend on the core components of
their holders; neither kind of key is ever part of the core, so their statuses never feed
back into it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Table, and_, case, delete, func, insert, or_, select, update

from ringtrace.domain.models import LinkKey
from ringtrace.linking.incremental import link_report, place
from ringtrace.linking.specificity import (
    DEFAULT,
    GENERIC_PREFIX,
    PAYMENT_TYPES,
    SpecificityModel,
    bridge_reason,
    generic_reason,
    uncorroborated_reason,
)
from ringtrace.store import analyst
from ringtrace.store.tables import indicators, report_clusters, report_core, reports


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
    conn: Connection, key: LinkKey, holders: list[int], model: SpecificityModel, strong: bool
) -> str | None:
    """The automatic status a key should have (None: it links), from its holders and
    whether any of its rows is strong evidence."""
    if len(set(holders)) > model.generic_df:
        return generic_reason(len(set(holders)))
    if not strong and len(set(holders)) >= model.corroborate_min_groups:
        groups = conn.execute(
            select(func.count(func.distinct(report_core.c.core_id))).where(
                report_core.c.report_id.in_(sorted(set(holders)))
            )
        ).scalar_one()
        if groups >= model.corroborate_min_groups:
            return uncorroborated_reason(int(groups))
    if key.type not in PAYMENT_TYPES:
        return None
    # Only the holders' groups are sized (not every group in the store).
    theirs = select(report_core.c.core_id).where(report_core.c.report_id.in_(holders))
    large = (
        select(report_core.c.core_id)
        .where(report_core.c.core_id.in_(theirs))
        .group_by(report_core.c.core_id)
        .having(func.count() >= model.bridge_min_group)
        .subquery()
    )
    groups = conn.execute(select(func.count()).select_from(large)).scalar_one()
    return bridge_reason(int(groups)) if groups >= 2 else None


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
                _Row(int(r.id), int(r.report_id), r.excluded_reason, bool(r.strong))
            )
    flipped = []
    for key in keys:
        held = rows.get(key)
        if not held:
            continue
        strong = {r.report_id for r in held if r.strong}
        want = _desired(conn, key, [r.report_id for r in held], model, bool(strong))
        if all(r.excluded_reason == want for r in held):
            continue
        conn.execute(
            update(indicators)
            .where(indicators.c.id.in_([r.id for r in held]))
            .values(linkable=want is None, excluded_reason=want)
        )
        flipped.append((key, len(strong)))
    return flipped


@dataclass(frozen=True)
class _Row:
    id: int
    report_id: int
    excluded_reason: str | None
    strong: bool


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
            known.setdefault(r.key, []).append(_Row(r.id, r.report_id, r.excluded_reason, r.strong))
    flipped = _set_statuses(
        conn, sorted(to_check), model, known={k: known.get(k, []) for k in keys}
    )
    # A key that two reports hold as strong evidence is part of the core: when it flips
    # (a value became generic: rare), everything is recomputed. Any other flip (a payment
    # account, a key mentioned in passing) changes only the clusters that hold it.
    if any(
        k.type not in PAYMENT_TYPES and n >= 2 and _holders(conn, k) != {report_id}
        for k, n in flipped
    ):
        full_recompute(conn, model, statuses=False)
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
    _relink_clusters(conn, affected)
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


def _key_rows(conn: Connection, keys: Sequence[LinkKey]) -> list[_KeyRow]:
    """Every indicator row of ``keys``, with its report's core group and cluster."""
    out: list[_KeyRow] = []
    for i in range(0, len(keys), 200):
        for r in conn.execute(
            select(
                indicators.c.id, indicators.c.report_id, indicators.c.type, indicators.c.value,
                indicators.c.linkable, indicators.c.excluded_reason, report_core.c.core_id,
                report_clusters.c.cluster_id, indicators.c.strong,
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
                r.excluded_reason, r.core_id, r.cluster_id, bool(r.strong),
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


def _relink_clusters(conn: Connection, report_ids: set[int]) -> None:
    """Re-place every report of the clusters holding ``report_ids`` (and those reports)."""
    cids = {
        int(c)
        for c in conn.execute(
            select(report_clusters.c.cluster_id).where(report_clusters.c.report_id.in_(report_ids))
        ).scalars()
    }
    members = set(report_ids) | {
        int(r)
        for r in conn.execute(
            select(report_clusters.c.report_id).where(report_clusters.c.cluster_id.in_(cids))
        ).scalars()
    }
    conn.execute(delete(report_clusters).where(report_clusters.c.report_id.in_(members)))
    comps = SqlComponents(conn)
    for rid in sorted(members):
        link_report(comps, rid, _linkable_keys(conn, rid))
    analyst.apply_merges(conn)


def recompute_around(
    conn: Connection,
    report_ids: set[int],
    model: SpecificityModel = DEFAULT,
    keys: Sequence[LinkKey] = (),
) -> None:
    """Recompute only what ``report_ids`` (whose keys changed: a cut, a withdrawal, keys
    added by an APK analysis) can affect: their core groups, the statuses of the payment
    and uncertain keys held inside those groups (and of ``keys``), and the clusters holding
    any of them. A status flip of a key that is part of the core (a value became generic)
    falls back to :func:`full_recompute`, as on arrival."""
    if not report_ids:
        return
    groups = select(report_core.c.core_id).where(report_core.c.report_id.in_(sorted(report_ids)))
    members = set(report_ids) | {
        int(r)
        for r in conn.execute(
            select(report_core.c.report_id).where(report_core.c.core_id.in_(groups))
        ).scalars()
    }
    conn.execute(delete(report_core).where(report_core.c.report_id.in_(sorted(members))))
    strong_keys: dict[int, list[LinkKey]] = defaultdict(list)
    for rid, t, v in conn.execute(
        select(indicators.c.report_id, indicators.c.type, indicators.c.value).where(
            indicators.c.report_id.in_(sorted(members)),
            indicators.c.linkable.is_(True),
            indicators.c.strong.is_(True),
            indicators.c.type.not_in(PAYMENT_TYPES),
        )
    ):
        strong_keys[int(rid)].append(LinkKey(t, v))
    core = SqlComponents(conn, core=True)
    for rid in sorted(members):
        link_report(core, rid, strong_keys.get(rid, []))
    # The groups may have split (or joined): recheck what depends on them.
    regrouped = select(report_core.c.report_id).where(
        report_core.c.core_id.in_(
            select(report_core.c.core_id).where(report_core.c.report_id.in_(sorted(members)))
        )
    )
    to_check = set(keys) | {
        LinkKey(t, v)
        for t, v in conn.execute(
            select(indicators.c.type, indicators.c.value).where(
                indicators.c.report_id.in_(regrouped),
                or_(indicators.c.type.in_(PAYMENT_TYPES), indicators.c.strong.is_(False)),
            )
        )
    }
    flipped = _set_statuses(conn, sorted(to_check), model)
    if any(k.type not in PAYMENT_TYPES and n >= 2 for k, n in flipped):
        full_recompute(conn, model, statuses=False)
        return
    affected = set(members)
    for k, _ in flipped:
        affected |= _holders(conn, k)
    _relink_clusters(conn, affected)


def full_recompute(
    conn: Connection, model: SpecificityModel = DEFAULT, *, statuses: bool = True
) -> None:
    """Recompute key statuses, core components and clusters from the stored indicators and
    analysts' decisions (rebuild, erasure, cuts)."""
    if statuses:
        conn.execute(
            update(indicators)
            .where(indicators.c.excluded_reason.startswith(GENERIC_PREFIX))
            .values(linkable=True, excluded_reason=None)
        )
        counts = conn.execute(
            select(
                indicators.c.type,
                indicators.c.value,
                func.count(func.distinct(indicators.c.report_id)),
            )
            .where(indicators.c.linkable.is_(True))
            .group_by(indicators.c.type, indicators.c.value)
            .having(func.count(func.distinct(indicators.c.report_id)) > model.generic_df)
        ).all()
        for t, v, n in counts:
            conn.execute(
                update(indicators)
                .where(
                    indicators.c.type == t, indicators.c.value == v, indicators.c.linkable.is_(True)
                )
                .values(linkable=False, excluded_reason=generic_reason(int(n)))
            )
    keys: dict[int, list[LinkKey]] = defaultdict(list)
    for rid, t, v in conn.execute(
        select(indicators.c.report_id, indicators.c.type, indicators.c.value).where(
            indicators.c.linkable.is_(True),
            indicators.c.strong.is_(True),
            indicators.c.type.not_in(PAYMENT_TYPES),
        )
    ):
        keys[int(rid)].append(LinkKey(t, v))
    ids = [int(r) for r in conn.execute(select(reports.c.id).order_by(reports.c.id)).scalars()]
    conn.execute(delete(report_core))
    core = SqlComponents(conn, core=True)
    for rid in ids:
        link_report(core, rid, keys.get(rid, []))
    # Payment and uncertain keys' statuses depend on the core components just computed.
    live = or_(
        indicators.c.excluded_reason.is_(None),
        indicators.c.excluded_reason.startswith(GENERIC_PREFIX),
    )
    payment = {
        LinkKey(t, v)
        for t, v in conn.execute(
            select(indicators.c.type, indicators.c.value)
            .where(indicators.c.type.in_(PAYMENT_TYPES), live)
            .distinct()
        )
    }
    uncertain = {
        LinkKey(t, v)
        for t, v in conn.execute(
            select(indicators.c.type, indicators.c.value)
            .where(live)
            .group_by(indicators.c.type, indicators.c.value)
            .having(
                func.sum(case((indicators.c.strong.is_(True), 1), else_=0)) == 0,
                func.count(func.distinct(indicators.c.report_id)) >= model.corroborate_min_groups,
            )
        )
    }
    _set_statuses(conn, sorted(payment | uncertain), model)
    keys.clear()
    for rid, t, v in conn.execute(
        select(indicators.c.report_id, indicators.c.type, indicators.c.value).where(
            indicators.c.linkable.is_(True)
        )
    ):
        keys[int(rid)].append(LinkKey(t, v))
    conn.execute(delete(report_clusters))
    comps = SqlComponents(conn)
    for rid in ids:
        link_report(comps, rid, keys.get(rid, []))
    analyst.apply_merges(conn)
