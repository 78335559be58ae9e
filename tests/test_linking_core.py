"""One rule set, one clustering core: the rules agree in Python and SQL; the online linker,
a rebuild and the batch engines give the same clusters, core groups and key statuses; a
cut reads only what it affects; a rebuild lets submissions through."""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Sequence
from typing import Any

import duckdb
import pytest
from sqlalchemy import event, select, text

from ringtrace import batch_link
from ringtrace.demo import generate
from ringtrace.demo.scenario import CLASSES
from ringtrace.domain.models import Indicator, LinkKey, ReportRef
from ringtrace.indicators import extract_report
from ringtrace.intake.received import receive
from ringtrace.intake.schema import ReportDocument
from ringtrace.linking import specificity as rules
from ringtrace.linking.specificity import PAYMENT_TYPES, SpecificityModel, is_automatic
from ringtrace.services import decisions, erasure, relink
from ringtrace.services.intake import import_lines, ingest
from ringtrace.store import Store, components
from ringtrace.store.tables import indicators, report_clusters, report_core
from tests.factories import line, report


def _state(store: Store) -> dict[str, Any]:
    """What linking decides: clusters, core groups, and each key's automatic status."""
    with store.engine.connect() as conn:
        statuses = {
            (t, v): why
            for t, v, why in conn.execute(
                select(indicators.c.type, indicators.c.value, indicators.c.excluded_reason)
            )
            if is_automatic(why)
        }
        # The strength the linker gives each row strong only by a cue in free text.
        cues = {
            (rid, t, v): bool(st)
            for rid, t, v, st in conn.execute(
                select(
                    indicators.c.report_id, indicators.c.type, indicators.c.value,
                    indicators.c.strong,
                ).where(indicators.c.cue_strong.is_(True))
            )
        }  # fmt: skip
        return {
            "clusters": dict(conn.execute(select(report_clusters)).all()),
            "core": dict(conn.execute(select(report_core)).all()),
            "statuses": statuses,
            "cues": cues,
        }


def _scenario(store: Store, classes: frozenset[str], background: int) -> list[ReportRef]:
    sc = generate(hard=True, background=background, seed=5, classes=classes)
    import_lines(store, [line(d) for d in sc.reports])
    return [ReportRef(d["source"], d["external_id"]) for d in sc.reports]


# -- the rules ---------------------------------------------------------------------------


def test_each_rule_gives_the_same_answer_in_python_and_in_sql() -> None:
    """The batch engines' SQL is generated from the same module as the online linker's
    Python: evaluated on the same inputs, every predicate and the whole status agree."""
    model = SpecificityModel(generic_df=4, bridge_min_group=3, corroborate_min_groups=2)
    con = duckdb.connect()

    def sql(expr: str) -> bool:
        return bool(con.execute(f"SELECT {expr}").fetchone()[0])  # type: ignore[index]

    types = ["phone", "bank_account", "iban", "domain"]
    for n in range(8):
        assert rules.is_generic(n, model) == sql(rules.sql_is_generic(str(n), model))
        assert rules.is_large_group(n, model) == sql(rules.sql_is_large_group(str(n), model))
    for t, strong in itertools.product(types, [True, False]):
        assert rules.is_core_evidence(t, strong) == sql(
            rules.sql_is_core_evidence(f"'{t}'", str(strong).upper())
        )
    for strong_rows, groups, large in itertools.product(range(3), range(5), range(4)):
        assert rules.needs_corroboration(strong_rows, groups, model, large) == sql(
            rules.sql_needs_corroboration(str(strong_rows), str(groups), model, str(large))
        )
    for firm, cue, holders in itertools.product(range(3), range(4), range(7)):
        assert rules.outvoted(firm, cue, holders, model) == sql(
            rules.sql_outvoted(str(firm), str(cue), str(holders), model)
        )
    assert rules.outvoted(0, 1, 3) and not rules.outvoted(0, 2, 4) and not rules.outvoted(1, 1, 9)
    for t, large in itertools.product(types, range(4)):
        assert rules.bridges(t, large) == sql(rules.sql_bridges(f"'{t}'", str(large)))
    assert rules.bridges("bank_account", 2) and not rules.bridges("phone", 5)
    assert rules.status("iban", 9, 0, 5, 5, model) == rules.generic_reason(9)
    assert rules.status("iban", 4, 0, 2, 2, model) == rules.uncorroborated_reason(2)
    assert rules.status("iban", 4, 1, 2, 2, model) == rules.bridge_reason(2)
    assert rules.status("phone", 4, 1, 2, 2, model) is None
    assert {"bank_account", "iban"} <= PAYMENT_TYPES


# -- online, rebuild and batch agree -------------------------------------------------------


def test_online_rebuild_and_duckdb_agree_on_every_class(store: Store) -> None:
    """The all-classes scenario with an analyst's merge and cut: the batch linker (DuckDB)
    computes the clusters, core groups and key statuses the online linker kept, and a
    rebuild (derived again, clustered on DuckDB, taken over) leaves them exactly so."""
    refs = _scenario(store, frozenset(CLASSES), 300)
    decisions.merge(store, refs[0], refs[1], reason="linked by an undercover conversation")
    decisions.cut(store, LinkKey("domain", "chat-priv.top"), reason="testing that cuts carry over")
    online = _state(store)
    assert any("mule" in why for why in online["statuses"].values())
    assert any(rules.UNCORROBORATED in why for why in online["statuses"].values())
    # Cue rows of both kinds: outvoted by the crowd that mentions the key, and standing.
    assert set(online["cues"].values()) == {True, False}
    result, upto, _ = components.batch_recompute(store.read)
    assert {(t, v) for (_, t, v), st in online["cues"].items() if not st} == set(result.outvoted)
    assert upto == max(online["clusters"])
    assert {r: result.assignments.get(r, r) for r in online["clusters"]} == online["clusters"]
    assert {r: result.core.get(r, r) for r in online["core"]} == online["core"]
    batch_statuses = {(t, v): rules.reason(kind, n) for t, v, kind, n in result.statuses}
    assert batch_statuses == online["statuses"]
    assert batch_link.run(store, "duckdb", write=False).differences == 0
    assert relink.rebuild(store, extract_report) == len(refs)
    assert _state(store) == online


@pytest.mark.parametrize("cls", sorted(CLASSES))
def test_online_and_duckdb_agree_on_each_class_alone(sqlite_store: Store, cls: str) -> None:
    _scenario(sqlite_store, frozenset({cls}), 80)
    online = _state(sqlite_store)
    result, _, _ = components.batch_recompute(sqlite_store.read)
    assert {r: result.assignments.get(r, r) for r in online["clusters"]} == online["clusters"]
    assert {r: result.core.get(r, r) for r in online["core"]} == online["core"]
    assert {(t, v): rules.reason(k, n) for t, v, k, n in result.statuses} == online["statuses"]


# -- bounded work --------------------------------------------------------------------------

_BIG = ("indicators", "reports", "report_clusters", "report_core", "audit_log", "attachments")


@pytest.mark.parametrize("action", ["cut", "unrelated", "merge", "withdraw"])
def test_analysts_decisions_read_only_through_indexes(sqlite_store: Store, action: str) -> None:
    """No statement a cut, an "unrelated", a merge or a withdrawal runs scans a whole table
    that grows with the store: every read of reports, indicators, groups and clusters goes
    through an index (SQLite's plan)."""
    ring = [
        ingest(sqlite_store, receive(line(report(
            offender_identifiers=[{"type": "phone", "value": "+85291234567"},
                                  {"type": "bank_account", "value": f"HSBC 123-45678{i}-001"}]
        )))).report_id
        for i in range(4)
    ]  # fmt: skip
    for i in range(30):
        ingest(sqlite_store, receive(line(report(
            offender_identifiers=[{"type": "phone", "value": f"+8529300{i:04d}"}]
        ))))  # fmt: skip
    seen: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "UPDATE", "DELETE", "WITH")):
            seen.append((statement, params))

    refs = sqlite_store.reports.refs(ring)
    event.listen(sqlite_store.engine, "before_cursor_execute", record)
    if action == "cut":
        decisions.cut(sqlite_store, LinkKey("phone", "+85291234567"), reason="not the same caller")
    elif action == "unrelated":
        decisions.unrelated(
            sqlite_store, refs[ring[0]], refs[ring[1]], reason="not the same caller"
        )
    elif action == "merge":
        decisions.merge(sqlite_store, refs[ring[0]], refs[ring[1]], reason="an undercover chat")
    else:
        erasure.withdraw(sqlite_store, refs[ring[0]], reason="the reporter asked")
    event.remove(sqlite_store.engine, "before_cursor_execute", record)
    assert len(seen) > 5
    scans = []
    with sqlite_store.engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        assert raw is not None
        for statement, params in seen:
            plan = [
                str(r[-1]) for r in raw.execute("EXPLAIN QUERY PLAN " + statement, params or ())
            ]
            # The newest audit entry is a scan in key order that stops after one row.
            stops = " LIMIT " in statement and not any("TEMP B-TREE" in p for p in plan)
            for detail in plan:
                full = re.match(rf"SCAN ({'|'.join(_BIG)})\b(?! USING (COVERING )?INDEX)", detail)
                if full and not stops:
                    scans.append((detail, statement.split()[:12]))
    assert scans == []
    after = sqlite_store.clusters.assignments()
    parted = {"cut": 4, "unrelated": 4, "merge": 1, "withdraw": 1}[action]
    assert len({after[r] for r in ring[1:]}) == min(parted, 3)


def test_a_rebuild_lets_submissions_through_and_links_them(sqlite_store: Store) -> None:
    """The write lock is not held while reports are derived: a submission made meanwhile
    is acknowledged at once, and it is linked on top of the rebuilt clusters."""
    phone = {"type": "phone", "value": "+85291234567"}
    first = [ingest(sqlite_store, receive(line(report(offender_identifiers=[phone]))))
             for _ in range(3)]  # fmt: skip
    paused, resume = threading.Event(), threading.Event()
    acked: list[int] = []

    def slow_extract(doc: ReportDocument) -> Sequence[Indicator]:
        paused.set()
        assert resume.wait(30)
        return extract_report(doc)

    def submit() -> None:
        assert paused.wait(30)
        acked.append(
            ingest(sqlite_store, receive(line(report(offender_identifiers=[phone])))).report_id
        )
        resume.set()

    worker = threading.Thread(target=submit)
    worker.start()
    relink.rebuild(sqlite_store, slow_extract)
    worker.join(5)
    assert acked, "the submission waited for the rebuild"
    clusters = sqlite_store.clusters.assignments()
    assert {clusters[r.report_id] for r in first} == {clusters[acked[0]]} == {first[0].report_id}


def test_a_decision_during_the_batch_run_makes_it_run_again(
    sqlite_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    _scenario(sqlite_store, frozenset(), 40)
    real = components.batch_recompute
    calls: list[int] = []

    def with_a_cut_meanwhile(*args: Any, **kwargs: Any) -> Any:
        out = real(*args, **kwargs)
        calls.append(1)
        if len(calls) == 1:  # an analyst cuts while the batch linker runs
            decisions.cut(
                sqlite_store, LinkKey("ip", "185.244.30.71"), reason="the rotator's server"
            )
        return out

    monkeypatch.setattr(components, "batch_recompute", with_a_cut_meanwhile)
    local = _state(sqlite_store)
    relink.relink(sqlite_store)
    assert len(calls) == 2
    after = _state(sqlite_store)
    assert after["clusters"] != local["clusters"]  # the cut split the rotating ring
    monkeypatch.undo()
    relink.relink(sqlite_store)
    assert _state(sqlite_store) == after  # the second run saw the cut
    with sqlite_store.engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM decisions")).scalar_one() == 1


def test_a_merge_outlives_cuts_and_withdrawals_near_it(store: Store) -> None:
    """The local recompute keeps an analyst's merge of two rings that share nothing, when
    a cut or a withdrawal regroups one side, exactly as a rebuild does."""

    def ring(phone: str, n: int) -> list[ReportRef]:
        refs = []
        for _ in range(n):
            doc = report(offender_identifiers=[{"type": "phone", "value": phone}])
            ingest(store, receive(line(doc)))
            refs.append(ReportRef(doc["source"], doc["external_id"]))
        return refs

    a, b = ring("+85291234567", 3), ring("+6581234567", 3)
    decisions.merge(store, a[1], b[2], reason="the same man in an undercover chat")
    decisions.cut(store, LinkKey("phone", "+85291234567"), reason="a shared call centre")
    erasure.withdraw(store, b[0], reason="the reporter asked")
    ids = {r: store.reports.id_of(r) for r in a + b}
    local = _state(store)
    assert local["clusters"][ids[a[1]]] == local["clusters"][ids[b[2]]] == ids[a[1]]
    assert local["clusters"][ids[a[0]]] == ids[a[0]]  # cut off: nothing else joins it
    relink.rebuild(store, extract_report)
    assert _state(store) == local


def test_a_core_key_turning_generic_and_back_regroups_locally(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server held by two rings joins them; once more reports hold it than the generic
    threshold (3 here) it stops linking and the rings part, and a withdrawal that brings it
    back under the threshold joins them again; each time as the batch linker computes."""
    from ringtrace.linking.specificity import DEFAULT

    # The store links with the default model: lower its threshold for this test only.
    monkeypatch.setattr(type(DEFAULT), "__setattr__", object.__setattr__)
    monkeypatch.setattr(DEFAULT, "generic_df", 3)

    def add(*ids: dict[str, str]) -> ReportRef:
        doc = report(offender_identifiers=list(ids))
        ingest(store, receive(line(doc)))
        return ReportRef(doc["source"], doc["external_id"])

    server = {"type": "ip", "value": "185.244.30.71"}
    x, y = {"type": "phone", "value": "+85291234567"}, {"type": "phone", "value": "+6581234567"}
    a = [add(x, server), add(x)]
    b = [add(y, server), add(y)]

    def check() -> dict[int, int]:
        online = _state(store)
        result, _, _ = components.batch_recompute(store.read)
        assert {r: result.assignments.get(r, r) for r in online["clusters"]} == online["clusters"]
        assert {r: result.core.get(r, r) for r in online["core"]} == online["core"]
        return {r: online["clusters"][store.reports.id_of(r)] for r in a + b}

    assert len(set(check().values())) == 1  # one ring through the server
    extra = add(server)
    assert len(set(check().values())) == 1  # 3 holders: still specific
    add(server)
    parted = check()
    assert parted[a[0]] == parted[a[1]] != parted[b[0]] == parted[b[1]]
    erasure.withdraw(store, extra, reason="the reporter asked")  # no consent: its keys go
    assert len(set(check().values())) == 1


@pytest.mark.slow
def test_spark_computes_what_the_online_linker_kept(sqlite_store: Store, tmp_path: Any) -> None:
    """Spark, from the Parquet export, gives the clusters, core groups and key statuses of
    the online linker on the all-classes scenario with a merge and a cut."""
    from ringtrace.linking.batch import link
    from ringtrace.linking.engines import SparkEngine

    refs = _scenario(sqlite_store, frozenset(CLASSES), 300)
    decisions.merge(sqlite_store, refs[0], refs[1], reason="linked by an undercover conversation")
    decisions.cut(
        sqlite_store, LinkKey("domain", "chat-priv.top"), reason="testing that cuts carry over"
    )
    online = _state(sqlite_store)
    relink.export_parquet(sqlite_store, tmp_path)
    engine = SparkEngine(SparkEngine.local())
    keys, merges = (
        engine.dialect.parquet(str(tmp_path / f)) for f in ("keys.parquet", "merges.parquet")
    )
    result = link(engine, keys, merges, strength=True, cues=True, details=True)
    assert {r: result.assignments.get(r, r) for r in online["clusters"]} == online["clusters"]
    assert {r: result.core.get(r, r) for r in online["core"]} == online["core"]
    assert {(t, v): rules.reason(k, n) for t, v, k, n in result.statuses} == online["statuses"]
