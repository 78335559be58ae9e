"""Linking at scale: specificity, analysts' control, explanations, and the batch linkers
agreeing with the online linker."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import duckdb
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from ringtrace import batch_link
from ringtrace.cli import app
from ringtrace.demo import generate
from ringtrace.demo.scenario import CLASSES
from ringtrace.domain.models import LinkKey, ReportRef
from ringtrace.errors import InvalidReport
from ringtrace.indicators import extract_report
from ringtrace.intake.received import receive
from ringtrace.linking.batch import link
from ringtrace.linking.engines import DuckDBEngine
from ringtrace.linking.evaluation import bcubed, pairwise
from ringtrace.linking.incremental import link_report
from ringtrace.services import decisions, relink, suggestion_finder
from ringtrace.services.intake import import_lines, ingest
from ringtrace.store import Store
from tests.factories import line, report


def clusters_of(store: Store) -> list[list[tuple[str, str]]]:
    return [[(r.source, r.external_id) for r in c.reports] for c in store.clusters.many()]


def add(store: Store, **fields: object) -> ReportRef:
    doc = report(**fields)
    ingest(store, receive(line(doc)))
    return ReportRef(doc["source"], doc["external_id"])


# -- ground truth ------------------------------------------------------------------------


def test_hard_cases_are_linked_right(store: Store) -> None:
    scenario = generate(hard=True, background=400)
    import_lines(store, [line(d) for d in scenario.reports])
    predicted = clusters_of(store)
    pw, b3 = pairwise(predicted, scenario.truth), bcubed(predicted, scenario.truth)
    assert pw.precision >= 0.99 and pw.recall >= 0.95, pw
    assert b3.f1 >= 0.95
    # The mule account is visible, with its reason, but did not merge the two rings.
    sizes = sorted((len(c) for c in predicted), reverse=True)
    assert sizes[:2] == [35, 12]
    mule = scenario.rings["mule"][0]
    ring = max(store.clusters.many(), key=lambda c: len(c.reports))
    assert any("money mule" in (lk.excluded_reason or "") for lk in ring.excluded), mule


@pytest.mark.slow
def test_hard_cases_with_a_large_background(sqlite_store: Store) -> None:
    scenario = generate(hard=True, background=2000)
    import_lines(sqlite_store, [line(d) for d in scenario.reports])
    pw = pairwise(clusters_of(sqlite_store), scenario.truth)
    assert pw.precision >= 0.99 and pw.recall >= 0.95, pw


# -- specificity -------------------------------------------------------------------------


def test_weak_keys_never_merge(store: Store) -> None:
    a = add(store, narrative="it asked me to install com.privatechat.app")
    b = add(store, narrative="the app com.privatechat.app was on my phone")
    assert store.clusters.many() == []
    ind = next(
        i
        for i in store.reports.get(store.reports.id_of(a)).indicators
        if i.type == "android_package"
    )
    assert "package names" in (ind.excluded_reason or "")
    assert b


def test_generic_values_are_excluded_by_the_batch_rules() -> None:
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE k AS SELECT * FROM (VALUES "
        "(1,'ip','9.9.9.9',true),(2,'ip','9.9.9.9',true),(3,'ip','9.9.9.9',true),(4,'ip','9.9.9.9',true),"
        "(1,'phone','+1',true),(2,'phone','+1',true)) t(report_id, key_type, key_value, linkable)"
    )
    result = link(DuckDBEngine(con), "k", generic_df=3)
    assert result.assignments == {1: 1, 2: 1}  # 9.9.9.9 is generic; the phone still links


# -- analysts' control -------------------------------------------------------------------


def test_merge_and_cut_are_audited_and_survive_rebuild(store: Store) -> None:
    a = add(store, narrative="pay to +852 6123 4567")
    b = add(store, narrative="he used +852 6123 4567 too")
    c = add(store, narrative="a different ring at hxxp://other-ring[.]top/x")
    with pytest.raises(InvalidReport):
        decisions.merge(store, a, c, reason="")
    decisions.merge(store, a, c, reason="same voice on both calls, per the investigator")
    assert len(store.clusters.many()) == 1 and len(store.clusters.many()[0].reports) == 3
    decisions.cut(
        store, LinkKey("phone", "+85261234567"), reason="a shared public payphone, not the ring"
    )
    by_size = sorted(len(x.reports) for x in store.clusters.many())
    assert by_size == [2]  # a and c stay merged, b is alone now
    relink.rebuild(store, extract_report)
    assert sorted(len(x.reports) for x in store.clusters.many()) == [2]
    cut = next(i for i in store.reports.get(store.reports.id_of(b)).indicators if i.type == "phone")
    assert cut.excluded_reason and "payphone" in cut.excluded_reason
    actions = [e.action for e in store.audit.entries()]
    assert "cluster.merge" in actions and "cluster.split" in actions
    assert store.audit.verify().ok


def test_explain_gives_the_shortest_chain(store: Store) -> None:
    a = add(store, narrative="+852 6123 4567")
    b = add(store, narrative="+852 6123 4567 and hxxp://chat-priv[.]top/app.apk")
    c = add(store, narrative="hxxp://chat-priv[.]top/app.apk and 45.77.102.16")
    d = add(store, narrative="server 45.77.102.16")
    chain = store.clusters.explain(a, d)
    assert chain is not None and len(chain) == 3
    refs = store.reports.refs([h.to_report for h in chain])
    assert [refs[h.to_report] for h in chain] == [b, c, d]
    assert chain[0].key == LinkKey("phone", "+85261234567")
    assert store.clusters.explain(a, a) == []


def test_unrelated_cuts_the_shared_keys(store: Store) -> None:
    a = add(store, narrative="+852 6123 4567")
    b = add(store, narrative="+852 6123 4567")
    cut = decisions.unrelated(store, a, b, reason="two different people share a family phone")
    assert cut == [LinkKey("phone", "+85261234567")]
    assert store.clusters.many() == []


# -- batch and online agree --------------------------------------------------------------


def _scenario_store(store: Store) -> None:
    scenario = generate(hard=True, background=300, seed=5, classes=frozenset(CLASSES))
    import_lines(store, [line(d) for d in scenario.reports])
    refs = [ReportRef(d["source"], d["external_id"]) for d in scenario.reports[:40]]
    decisions.merge(store, refs[0], refs[1], reason="linked by an undercover conversation")
    decisions.cut(store, LinkKey("domain", "chat-priv.top"), reason="testing that cuts carry over")


def test_duckdb_batch_matches_the_online_linker(store: Store) -> None:
    _scenario_store(store)
    run = batch_link.run(store, "duckdb", write=False)
    assert run.differences == 0 and run.bridges == 1
    before = store.clusters.assignments()
    assert batch_link.run(store, "duckdb").moved == 0
    assert store.clusters.assignments() == before


@pytest.mark.slow
def test_spark_batch_matches_the_online_linker(sqlite_store: Store) -> None:
    _scenario_store(sqlite_store)
    run = batch_link.run(sqlite_store, "spark", write=False)
    assert run.differences == 0 and run.bridges == 1


class _MemoryComponents:
    """The online linker's ComponentStore in memory, for a chain too long to ingest."""

    def __init__(self) -> None:
        self.holders: dict[LinkKey, set[int]] = {}
        self.cluster: dict[int, int] = {}
        self.members: dict[int, set[int]] = {}

    def add_keys(self, rid: int, keys: Sequence[LinkKey]) -> None:
        for k in keys:
            self.holders.setdefault(k, set()).add(rid)

    def clusters_sharing(self, keys: Sequence[LinkKey], exclude: int) -> set[int]:
        others = {r for k in keys for r in self.holders.get(k, ()) if r != exclude}
        return {self.cluster[r] for r in others if r in self.cluster}

    def move_clusters(self, from_ids: set[int], to_id: int) -> None:
        for cid in from_ids:
            for r in self.members.pop(cid):
                self.cluster[r] = to_id
                self.members.setdefault(to_id, set()).add(r)

    def assign(self, report_id: int, cluster_id: int) -> None:
        self.cluster[report_id] = cluster_id
        self.members.setdefault(cluster_id, set()).add(report_id)


def _chain(n: int, tmp_path: Path) -> tuple[Path, dict[int, int]]:
    """Reports 1..n where report i shares key i with i-1 and key i+1 with i+1, arriving in a
    scrambled order; two separate chains so the labels are not all 1."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = []
    for i in range(1, n + 1):
        group = 0 if i <= n // 2 else 1
        rows += [(i, "phone", f"k{group}-{i}"), (i, "phone", f"k{group}-{i + 1}")]
    online = _MemoryComponents()
    keys_of: dict[int, list[LinkKey]] = {}
    for rid, t, v in rows:
        keys_of.setdefault(rid, []).append(LinkKey(t, v))
    for rid in range(1, n + 1):
        online.add_keys(rid, keys_of[rid])
        link_report(online, rid, keys_of[rid])
    path = tmp_path / "chain"
    path.mkdir()
    pq.write_table(
        pa.table({"report_id": [r[0] for r in rows], "key_type": [r[1] for r in rows],
                  "key_value": [r[2] for r in rows], "linkable": [True] * len(rows)}),
        path / "keys.parquet",
    )  # fmt: skip
    pq.write_table(
        pa.table({"a": pa.array([], pa.int64()), "b": pa.array([], pa.int64())}),
        path / "merges.parquet",
    )
    return path, online.cluster


def test_duckdb_on_a_100k_chain(tmp_path: Path) -> None:
    folder, online = _chain(100_000, tmp_path)
    assignments, rounds, _ = batch_link.link_from_parquet(DuckDBEngine(), folder)
    assert assignments == online
    assert set(assignments.values()) == {1, 50_001}
    assert rounds < 40  # logarithmic, not 100,000


def test_rounds_on_ready_made_edges_match_the_online_linker(tmp_path: Path) -> None:
    """The entry point the benchmark compares with Splink: the same rounds started from an
    edge list (here, the 100k chain's edges in both directions and with repeats)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from ringtrace.linking.batch import connected_components_from_edges

    n = 100_000
    _, online = _chain(n, tmp_path)
    left = [i for i in range(1, n) if i != n // 2]
    right = [i + 1 for i in left]
    edges = pa.table({"unique_id_l": left + right + left[:10],
                      "unique_id_r": right + left + right[:10]})  # fmt: skip
    pq.write_table(edges, tmp_path / "edges.parquet")
    engine = DuckDBEngine()
    result = connected_components_from_edges(
        engine, engine.dialect.parquet(str(tmp_path / "edges.parquet"))
    )
    assert result.assignments == online
    assert result.rounds < 40


@pytest.mark.slow
def test_spark_on_a_100k_chain(tmp_path: Path) -> None:
    folder, online = _chain(100_000, tmp_path)
    engine = batch_link.make_engine("spark")
    assignments, rounds, _ = batch_link.link_from_parquet(engine, folder)
    assert assignments == online
    assert rounds < 40


# -- commands ----------------------------------------------------------------------------


def test_link_explain_and_evaluate_commands(tmp_path: Path) -> None:
    runner = CliRunner()
    base = ["--data-dir", str(tmp_path / "d")]
    runner.invoke(app, [*base, "init"])
    f = tmp_path / "r.jsonl"
    docs = [report(external_id=f"E{i}", narrative=t) for i, t in enumerate(
        ["+852 6123 4567", "+852 6123 4567 hxxp://x-ring[.]top/a", "hxxp://x-ring[.]top/a"]
    )]  # fmt: skip
    f.write_text("\n".join(line(d) for d in docs))
    runner.invoke(app, [*base, "import", str(f)])
    res = runner.invoke(app, [*base, "link", "--engine", "duckdb"])
    assert res.exit_code == 0 and "0 reports placed differently" in res.output, res.output
    res = runner.invoke(app, [*base, "explain", "test-agency/E0", "test-agency/E2", "--json"])
    chain = json.loads(res.output)["chain"]
    assert [h["key"]["type"] for h in chain] == ["phone", "url"] or [
        h["key"]["type"] for h in chain
    ] == ["phone", "domain"]
    res = runner.invoke(app, ["evaluate", "--background", "100", "--json"])
    scores = json.loads(res.output)
    assert scores["pairwise"]["precision"] >= 0.99 and scores["bcubed"]["f1"] >= 0.95
    out = tmp_path / "pq"
    res = runner.invoke(app, [*base, "export", "parquet", str(out)])
    assert res.exit_code == 0 and (out / "keys.parquet").exists()


# -- weak signals ------------------------------------------------------------------------

SCRIPT = (
    "I have recorded our video call. Pay 5000 SGD to the account below within 24 hours or "
    "I will send the video to all {n} contacts in your phone, your family and your employer."
)
SCRIPT_ZH = (
    "我已經錄低咗我哋嘅視像通話。24小時內轉5000蚊，否則我會將段片發俾你{n}個聯絡人同埋你屋企人。"
)


def test_near_duplicate_scripts_are_suggested_never_merged(store: Store) -> None:
    msg = lambda text: [{"from": "offender", "text": text}]  # noqa: E731
    a = add(store, narrative="+852 6123 4567", messages=msg(SCRIPT.format(n=312)))
    b = add(
        store,
        narrative="+852 9876 5432",
        messages=msg(SCRIPT.format(n=87).replace("employer", "employr")),
    )
    c = add(store, narrative="+852 5123 0000", messages=msg(SCRIPT_ZH.format(n=1)))
    d = add(store, narrative="+852 5123 1111", messages=msg(SCRIPT_ZH.format(n=2)))
    add(
        store,
        narrative="+852 5999 2222",
        messages=msg("Hello, you won a prize, send your bank details now please."),
    )
    assert suggestion_finder.refresh(store) == 2
    assert store.clusters.many() == []  # nothing merged on its own
    rows = store.suggestions.find()
    pairs = {frozenset([(r["a"]["external_id"]), (r["b"]["external_id"])]) for r in rows}
    assert pairs == {
        frozenset([a.external_id, b.external_id]),
        frozenset([c.external_id, d.external_id]),
    }
    assert all(0.5 <= r["score"] <= 1 for r in rows)
    first = next(r for r in rows if a.external_id in (r["a"]["external_id"], r["b"]["external_id"]))
    other = next(r for r in rows if r is not first)
    decisions.decide_suggestion(
        store, first["id"], accept=True, reason="same script, same wording of the threat"
    )
    decisions.decide_suggestion(
        store, other["id"], accept=False, reason="a script copied from a public forum post"
    )
    assert [len(x.reports) for x in store.clusters.many()] == [2]
    assert suggestion_finder.refresh(store) == 0  # decided pairs are not suggested again
    actions = [e.action for e in store.audit.entries()]
    assert (
        "suggestion.accept" in actions
        and "suggestion.reject" in actions
        and "cluster.merge" in actions
    )


def _components_by_union_find(edges: Sequence[tuple[int, int]]) -> dict[int, int]:
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        ra, rb = find(a), find(b)
        parent[max(ra, rb)] = min(ra, rb)
    linked = {n for a, b in edges if a != b for n in (a, b)}
    return {n: find(n) for n in linked}


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 30), st.integers(1, 30)), max_size=60))
@example([(1, n) for n in range(2, 12)])  # a star: every leaf set aside, the centre alone
@example([(n, n + 1) for n in range(1, 20)] + [(5, 30), (30, 29), (29, 28)])  # branches
@example([(2, 1), (3, 1), (3, 2), (7, 7)])
def test_rounds_find_the_components_of_any_graph(edges: list[tuple[int, int]]) -> None:
    """Setting leaves aside and labelling them afterwards gives exactly the components
    (and their smallest reports) that union-find gives, on any small graph."""
    from ringtrace.linking.batch import connected_components_from_edges

    engine = DuckDBEngine()
    engine.con.execute("CREATE TABLE given (a BIGINT, b BIGINT)")
    if edges:
        engine.con.executemany("INSERT INTO given VALUES (?, ?)", edges)
    result = connected_components_from_edges(engine, "given", "a", "b")
    assert result.assignments == _components_by_union_find(edges)
