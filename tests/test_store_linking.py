"""Storage and linking, run on SQLite and on PostgreSQL."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from ringtrace.demo import generate
from ringtrace.domain.models import ReportRef
from ringtrace.errors import Conflict
from ringtrace.evidence.keys import open_document
from ringtrace.indicators import extract_report
from ringtrace.intake.received import receive
from ringtrace.linking.evaluation import pairwise
from ringtrace.services import intake, relink
from ringtrace.services.intake import import_lines, ingest
from ringtrace.settings import Settings
from ringtrace.store import Store
from ringtrace.store.tables import metadata, reports
from tests.factories import line, report


def add(store: Store, **fields: object) -> int:
    doc = report(**fields)
    return ingest(store, receive(line(doc))).report_id


def cluster_of(store: Store, report_id: int) -> int | None:
    return store.reports.get(report_id).summary.cluster_id


def test_migrations_create_exactly_the_declared_schema(store: Store) -> None:
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []
    store.migrate()  # idempotent
    store.ensure_ready()


def test_an_acknowledged_sqlite_commit_is_on_disk(sqlite_store: Store) -> None:
    """A 2xx is sent after the commit; with WAL, only synchronous=FULL makes that commit
    survive a power cut (NORMAL syncs at checkpoints only)."""
    with sqlite_store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL


def test_reports_sharing_a_key_join_one_cluster(store: Store) -> None:
    a = add(store, narrative="WhatsApp +852 6123 4567")
    b = add(store, offender_identifiers=[{"type": "whatsapp", "value": "+852-6123-4567"}])
    c = add(store, narrative="someone else, +852 9876 5432")
    assert cluster_of(store, a) == cluster_of(store, b) == a
    assert cluster_of(store, c) == c
    [cluster] = store.clusters.many()
    assert [r.external_id for r in cluster.reports] == [
        store.reports.get(a).summary.ref.external_id,
        store.reports.get(b).summary.ref.external_id,
    ]
    assert cluster.links[0].key.to_dict() == {"type": "phone", "value": "+85261234567"}


def test_a_bridging_report_merges_clusters_under_the_smallest_id(store: Store) -> None:
    a = add(store, narrative="pay to +852 6123 4567")
    b = add(store, narrative="app at hxxp://chat-priv[.]top/app.apk")
    c = add(store, narrative="from hxxp://chat-priv[.]top/app.apk")
    assert cluster_of(store, b) == cluster_of(store, c) == b
    d = add(store, narrative="+852 6123 4567 sent chat-priv.top/app.apk")
    assert {cluster_of(store, r) for r in (a, b, c, d)} == {a}
    assert [cid for cid, _ in store.clusters.ids()] == [a]


def test_platform_domains_and_private_addresses_never_link(store: Store) -> None:
    a = add(store, narrative="met on https://www.instagram.com/ then 192.168.1.1 and example.com")
    b = add(store, narrative="also https://www.instagram.com/ and 192.168.1.1 and example.com")
    assert cluster_of(store, a) != cluster_of(store, b)
    assert store.clusters.many() == []
    inds = store.reports.get(a).indicators
    assert inds and all(not i.linkable for i in inds)


def test_reporter_own_number_does_not_link_two_reports(store: Store) -> None:
    own = {"country": "SG", "contact": "+65 8123 4567"}
    a = add(store, reporter=own, narrative="I gave them my number +65 8123 4567")
    b = add(store, narrative="They called from +65 8123 4567")
    assert cluster_of(store, a) != cluster_of(store, b)


def test_reimport_is_idempotent_and_a_changed_document_conflicts(store: Store) -> None:
    doc = report(narrative="+852 6123 4567")
    first = ingest(store, receive(line(doc)))
    again = ingest(store, receive(json.dumps(doc, indent=2)))  # same content, other spacing
    assert first.created and not again.created
    assert again.report_id == first.report_id
    assert store.reports.count() == 1
    with pytest.raises(Conflict):
        ingest(store, receive(line({**doc, "narrative": "edited"})))
    assert store.reports.count() == 1


def test_document_is_stored_as_received(store: Store) -> None:
    text = (
        '{"external_id":"X-1", "received_at":"2024-07-02T21:14:00+08:00",'
        '"narrative":"héllo +852 6123 4567"}'
    )
    rid = ingest(store, receive(text)).report_id
    with store.engine.connect() as conn:
        stored = conn.execute(reports.select().where(reports.c.id == rid)).one()
    assert "héllo" not in stored.document  # sealed at rest
    aad = b"report:local/X-1"
    assert open_document(store.keys(), stored.document, stored.document_key, aad, what="t") == text
    assert store.reports.get(rid).document == json.loads(text)
    assert store.reports.get(rid).summary.received_at.isoformat() == "2024-07-02T13:14:00+00:00"


def test_attachments_are_content_addressed_in_the_vault(store: Store) -> None:
    data = b"synthetic chat export"
    sha = hashlib.sha256(data).hexdigest()
    att = {"filename": "chat.txt", "content_base64": base64.b64encode(data).decode()}
    a = add(store, attachments=[att])
    b = add(store, attachments=[{**att, "filename": "copy.txt"}])
    assert store.vault.get(sha) == data
    files = [p for p in store.vault.root.rglob("*") if p.is_file()]
    assert len(files) == 1
    assert [x.sha256 for x in store.reports.get(a).attachments] == [sha]
    assert store.reports.get(b).attachments[0].size == len(data)


def test_rebuild_derives_the_same_clusters(store: Store) -> None:
    scenario = generate(seed=7, background=30)
    import_lines(store, [line(d) for d in scenario.reports])
    before = [c.to_dict() for c in store.clusters.many()]
    assert relink.rebuild(store, extract_report) == len(scenario.reports)
    assert [c.to_dict() for c in store.clusters.many()] == before


def test_demo_scenario_recovers_the_rings(store: Store) -> None:
    scenario = generate()
    summary = import_lines(store, [line(d) for d in scenario.reports])
    assert summary.created == len(scenario.reports)
    predicted = [[(r.source, r.external_id) for r in c.reports] for c in store.clusters.many()]
    score = pairwise(predicted, scenario.truth)
    assert score.precision == 1.0
    assert score.recall >= 0.95
    sizes = sorted((len(c) for c in predicted), reverse=True)
    assert sizes[0] == 34  # the PrivateChat ring, whole
    ring = max(store.clusters.many(), key=lambda c: len(c.reports))
    keys = {(lk.key.type, lk.key.value) for lk in ring.links}
    assert ("domain", "chat-priv.top") in keys
    assert len({k for k in keys if k[0] == "phone"}) == 2  # both of the ring's numbers


def test_report_lookup_by_reference(store: Store) -> None:
    rid = add(store, external_id="HK-1", source="hk-police")
    assert store.reports.id_of(ReportRef("hk-police", "HK-1")) == rid


def test_concurrent_arrivals_never_split_a_component(store: Store) -> None:
    """Reports forming one chain (r_i shares a number with r_i+1) arrive from four writers
    at once, in shuffled order: the chain must still end as one cluster."""
    import random
    from concurrent.futures import ThreadPoolExecutor

    phones = [f"+8526{1000000 + 7919 * i:07d}" for i in range(25)]
    docs = [
        report(narrative=f"from {phones[i]} and later {phones[i + 1]}")
        for i in range(len(phones) - 1)
    ]
    random.Random(5).shuffle(docs)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda d: ingest(store, receive(line(d))), docs))
    assert all(r.created for r in results)
    assert store.clusters.ids() == [(min(r.report_id for r in results), len(docs))]


def test_two_writers_with_group_commit_never_split_a_component(
    store: Store, backend_settings: Settings
) -> None:
    """Two stores on one database stand for two server processes: each batches its own
    arrivals (group commit) and, on PostgreSQL, inserts before taking the link lock. A
    chain arriving through both, shuffled, must still end as one cluster, with one audit
    entry per report in an unbroken chain."""
    import random
    from concurrent.futures import ThreadPoolExecutor

    other = Store.open(backend_settings)
    try:
        phones = [f"+8526{2000000 + 7919 * i:07d}" for i in range(41)]
        docs = [
            report(narrative=f"from {phones[i]} and later {phones[i + 1]}")
            for i in range(len(phones) - 1)
        ]
        random.Random(11).shuffle(docs)
        stores = [store, other]
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(
                pool.map(lambda p: ingest(stores[p[0] % 2], receive(line(p[1]))), enumerate(docs))
            )
        assert all(r.created for r in results)
        assert store.clusters.ids() == [(min(r.report_id for r in results), len(docs))]
        assert intake.writer(store).batches + intake.writer(other).batches < len(docs)  # batched
        assert store.audit.verify().ok
        creates = [e for e in store.audit.entries() if e.action == "report.create"]
        assert len(creates) == len(docs)
    finally:
        other.close()
