"""Evidence integrity and privacy: sealed vault, sealed documents, audit chain, court
packages, erasure, crash safety."""

from __future__ import annotations

import base64
import json
import os
import signal
import stat
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select, text, update
from typer.testing import CliRunner

from ringtrace.cli import app
from ringtrace.court import make_package
from ringtrace.demo import generate
from ringtrace.errors import ConfigurationError, InvalidReport, NotFound
from ringtrace.evidence.keys import TamperedData
from ringtrace.evidence.package import verify
from ringtrace.intake.received import receive
from ringtrace.services import erasure, evidence_access, integrity_check, key_rotation, relink
from ringtrace.services.intake import import_lines, ingest
from ringtrace.settings import Settings
from ringtrace.store import Store
from ringtrace.store.tables import audit_log, reports
from tests.factories import line, report

CHAT = b"[12/03/2024 21:14] Offender: pay or everyone sees it\n" * 20


def att(data: bytes, name: str = "chat.txt", media: str = "text/plain") -> dict[str, str]:
    return {
        "filename": name,
        "media_type": media,
        "content_base64": base64.b64encode(data).decode(),
    }


def add(store: Store, **fields: object) -> int:
    return ingest(store, receive(line(report(**fields)))).report_id


def vault_file(store: Store, sha: str) -> Path:
    return store.vault.root / sha[:2] / sha[2:]


# -- the vault ---------------------------------------------------------------------------


def test_key_file_is_owner_only(store: Store, backend_settings: Settings) -> None:
    mode = backend_settings.key_file.stat().st_mode
    assert not mode & (stat.S_IRWXG | stat.S_IRWXO)


@pytest.mark.parametrize("how", ["flip", "truncate", "swap", "delete"])
def test_every_vault_tampering_is_detected(store: Store, how: str) -> None:
    a = add(store, attachments=[att(CHAT)])
    b = add(store, attachments=[att(b"another synthetic file " * 10, "b.txt")])
    sha_a = store.reports.get(a).attachments[0].sha256
    sha_b = store.reports.get(b).attachments[0].sha256
    assert sha_a and sha_b
    pa, pb = vault_file(store, sha_a), vault_file(store, sha_b)
    if how == "flip":
        raw = bytearray(pa.read_bytes())
        raw[len(raw) // 2] ^= 0x01
        pa.write_bytes(bytes(raw))
    elif how == "truncate":
        pa.write_bytes(pa.read_bytes()[:-5])
    elif how == "swap":
        pa.write_bytes(pb.read_bytes())
    else:
        pa.unlink()
    problems = integrity_check.check_evidence(store)
    assert len(problems) == 1 and sha_a[:12] in problems[0]
    with pytest.raises((TamperedData, NotFound)):
        evidence_access.view_attachment(store, a, 0)
    evidence_access.view_attachment(store, b, 0)  # the untouched file still opens


def test_vault_check_command_names_the_bad_file(tmp_path: Path) -> None:
    runner = CliRunner()
    data = tmp_path / "data"
    assert runner.invoke(app, ["--data-dir", str(data), "init"]).exit_code == 0
    f = tmp_path / "r.jsonl"
    f.write_text(line(report(attachments=[att(CHAT)])))
    assert runner.invoke(app, ["--data-dir", str(data), "import", str(f)]).exit_code == 0
    assert runner.invoke(app, ["--data-dir", str(data), "vault", "check"]).exit_code == 0
    victim = next(p for p in (data / "vault").rglob("*") if p.is_file())
    victim.write_bytes(victim.read_bytes()[:-1] + b"\x00")
    res = runner.invoke(app, ["--data-dir", str(data), "vault", "check"])
    assert res.exit_code == 7
    assert "failed authentication" in res.output


# -- sealed documents --------------------------------------------------------------------


@pytest.mark.parametrize("how", ["document", "key", "swap"])
def test_database_tampering_is_detected(store: Store, how: str) -> None:
    a = add(store, narrative="first synthetic account")
    b = add(store, narrative="second synthetic account")
    with store.engine.begin() as conn:
        ra = conn.execute(reports.select().where(reports.c.id == a)).one()
        rb = conn.execute(reports.select().where(reports.c.id == b)).one()
        if how == "document":
            raw = bytearray(base64.b64decode(ra.document))
            raw[-3] ^= 0x40
            values = {"document": base64.b64encode(bytes(raw)).decode()}
        elif how == "key":
            raw = bytearray(base64.b64decode(ra.document_key))
            raw[-1] ^= 0x01
            values = {"document_key": base64.b64encode(bytes(raw)).decode()}
        else:
            values = {"document": rb.document, "document_key": rb.document_key}
        conn.execute(update(reports).where(reports.c.id == a).values(**values))
    with pytest.raises(TamperedData):
        store.reports.get(a)
    assert store.reports.get(b).document["narrative"] == "second synthetic account"


def test_no_plaintext_at_rest(store: Store, backend_settings: Settings) -> None:
    narrative = "PLANTED narrative phrase qx7731 about the video call"
    contact = "planted.reporter.qx7731@mail.invalid"
    payload = b"PLANTED attachment bytes qx7731 " * 8
    add(
        store,
        narrative=f"{narrative}. They asked for my email {contact}.",
        reporter={"country": "SG", "contact": contact},
        messages=[{"from": "victim", "text": f"my email is {contact}"}],
        attachments=[att(payload)],
    )
    needles = [b"qx7731", base64.b64encode(payload)[:24], contact.encode()]
    files = [p for p in backend_settings.data_dir.rglob("*") if p.is_file()]
    assert any(p.parent.name != "keys" for p in files)
    for p in files:
        blob = p.read_bytes()
        for needle in needles:
            assert needle not in blob, f"{needle!r} in {p}"
    if store.dialect == "postgresql":
        with store.engine.connect() as conn:
            for table in ("reports", "attachments", "indicators", "audit_log"):
                dump = " ".join(str(r) for r in conn.execute(text(f"SELECT * FROM {table}")))
                assert "qx7731" not in dump, table


# -- the audit log -----------------------------------------------------------------------


def _chain(store: Store, n: int = 5) -> None:
    for i in range(n):
        add(store, narrative=f"synthetic {i}")


@pytest.mark.parametrize(
    ("how", "first_bad"),
    [("edit", 3), ("delete", 3), ("reorder", 2), ("insert", 3)],
)
def test_every_audit_tampering_is_named(store: Store, how: str, first_bad: int) -> None:
    _chain(store)
    assert store.audit.verify().ok
    with store.engine.begin() as conn:
        if how == "edit":
            conn.execute(update(audit_log).where(audit_log.c.seq == 3).values(actor="someone else"))
        elif how == "delete":
            conn.execute(audit_log.delete().where(audit_log.c.seq == 3))
        elif how == "reorder":
            rows = {
                r.seq: r
                for r in conn.execute(audit_log.select().where(audit_log.c.seq.in_([2, 3])))
            }
            for seq, other in ((2, 3), (3, 2)):
                r = rows[other]
                conn.execute(
                    update(audit_log).where(audit_log.c.seq == seq).values(
                        at=r.at, actor=r.actor, action=r.action, subject=r.subject,
                        details=r.details, prev_hash=r.prev_hash, hash=r.hash,
                    )
                )  # fmt: skip
        else:  # shift entries up and forge one at 3 that links to 2 but not onward
            for seq in (5, 4, 3):
                conn.execute(update(audit_log).where(audit_log.c.seq == seq).values(seq=seq + 1))
            two = conn.execute(audit_log.select().where(audit_log.c.seq == 2)).one()
            conn.execute(
                audit_log.insert().values(
                    seq=3, at=two.at, actor="forger", action="report.create", subject="x",
                    details="{}", prev_hash=two.hash, hash="f" * 64,
                )
            )  # fmt: skip
    result = store.audit.verify()
    assert not result.ok
    assert result.first_bad == first_bad, result.problem


def test_anchor_detects_a_truncated_log(tmp_path: Path) -> None:
    runner = CliRunner()
    data = tmp_path / "data"
    base = ["--data-dir", str(data)]
    runner.invoke(app, [*base, "init"])
    f = tmp_path / "r.jsonl"
    f.write_text("\n".join(line(report(narrative=f"n{i}")) for i in range(3)))
    runner.invoke(app, [*base, "import", str(f)])
    anchor = tmp_path / "anchor.json"
    anchor.write_text(runner.invoke(app, [*base, "audit", "anchor"]).output)
    assert runner.invoke(app, [*base, "audit", "verify", "--anchor", str(anchor)]).exit_code == 0
    store = Store.open(Settings(data_dir=data))
    with store.engine.begin() as conn:
        tail = conn.execute(select(func.max(audit_log.c.seq))).scalar_one()
        conn.execute(audit_log.delete().where(audit_log.c.seq == tail))  # chain stays valid
    store.close()
    assert runner.invoke(app, [*base, "audit", "verify"]).exit_code == 0
    res = runner.invoke(app, [*base, "audit", "verify", "--anchor", str(anchor)])
    assert res.exit_code == 7 and f"anchor entry {tail}" in res.output


def test_creates_views_and_exports_are_audited(store: Store, tmp_path: Path) -> None:
    rid = add(store, attachments=[att(CHAT)])
    evidence_access.view_attachment(store, rid, 0, actor="analyst-7")
    make_package(
        store,
        str(store.reports.get(rid).summary.cluster_id or rid),
        tmp_path / "p.zip",
        actor="analyst-7",
    )
    actions = [(e.action, e.actor) for e in store.audit.entries()]
    assert actions[0][0] == "report.create"
    assert ("evidence.view", "analyst-7") in actions
    assert ("export.court_package", "analyst-7") in actions
    assert store.audit.verify().ok


# -- court packages ----------------------------------------------------------------------


def test_court_package_of_the_demo_ring_verifies_and_detects_any_byte_change(
    store: Store, tmp_path: Path
) -> None:
    scenario = generate(background=20)
    docs = list(scenario.reports)
    ring = [
        d for d in docs if scenario.truth[(d["source"], d["external_id"])] == "ring-privatechat"
    ]
    for i, d in enumerate(ring[:3]):
        d["attachments"] = [att(CHAT + f"screenshot {i}".encode(), f"chat-{i}.txt")]
    import_lines(store, [line(d) for d in docs])
    cluster_id = max(store.clusters.ids(), key=lambda c: c[1])[0]
    out = tmp_path / "ring.zip"
    digest = make_package(store, str(cluster_id), out)
    assert verify(out) == []
    with zipfile.ZipFile(out) as z:
        names = set(z.namelist())
        manifest = json.loads(z.read("manifest.json"))
        assert z.read("summary.pdf").startswith(b"%PDF")
        assert b"chat-priv.top" in z.read("summary.html")
    assert {"summary.html", "summary.pdf", "audit.jsonl", "explanation.json"} <= names
    assert len([n for n in names if n.startswith("files/")]) == 3
    assert len(manifest["files"]) == len(names) - 2
    assert any(
        e.details and digest in e.details
        for e in store.audit.entries(["cluster:" + str(cluster_id)])
    )
    raw = out.read_bytes()
    for offset in (30, len(raw) // 3, len(raw) // 2, len(raw) - 30, len(raw) - 200):
        changed = bytearray(raw)
        changed[offset] ^= 0x01
        bad = tmp_path / f"bad-{offset}.zip"
        bad.write_bytes(bytes(changed))
        assert verify(bad), f"a change at byte {offset} went unnoticed"


def test_court_package_edits_inside_the_zip_are_detected(store: Store, tmp_path: Path) -> None:
    rid = add(store, attachments=[att(CHAT)])
    out = tmp_path / "r.zip"
    make_package(store, "test-agency/" + store.reports.get(rid).summary.ref.external_id, out)
    with zipfile.ZipFile(out) as z:
        members = {n: z.read(n) for n in z.namelist()}
    members["audit.jsonl"] = members["audit.jsonl"].replace(b"report.create", b"report.cr3ate")
    edited = tmp_path / "edited.zip"
    with zipfile.ZipFile(edited, "w") as z:
        for n, d in members.items():
            z.writestr(n, d)
    problems = verify(edited)
    assert any("audit.jsonl" in p for p in problems)


# -- limits and types --------------------------------------------------------------------


def test_a_file_is_recorded_as_what_it_really_is(store: Store) -> None:
    rid = add(store, attachments=[att(b"just some text, not an image", "photo.png", "image/png")])
    a = store.reports.get(rid).attachments[0]
    assert a.media_type == "image/png" and a.detected_type == "text/plain"


def test_executables_and_oversized_files_are_refused() -> None:
    elf = b"\x7fELF\x02\x01\x01" + b"\x00" * 120
    with pytest.raises(InvalidReport, match="not accepted as evidence"):
        receive(line(report(attachments=[att(elf, "invoice.pdf", "application/pdf")])))
    with pytest.raises(InvalidReport, match="the limit is 100"):
        receive(line(report(attachments=[att(b"x" * 101)])), max_attachment_bytes=100)


# -- erasure -----------------------------------------------------------------------------


@pytest.mark.parametrize("consent", [True, False])
def test_withdrawal_erases_personal_data_and_is_audited(store: Store, consent: bool) -> None:
    ring_key = "pay to +852 6123 4567"
    a = add(
        store, narrative=f"{ring_key}, my number is +65 8123 4567",
        reporter={"country": "SG", "contact": "+65 8123 4567", "consent_share": consent},
        attachments=[att(CHAT)],
    )  # fmt: skip
    b = add(store, narrative=ring_key)
    sha = store.reports.get(a).attachments[0].sha256
    assert sha and store.vault.exists(sha)
    ref = store.reports.get(a).summary.ref
    done = erasure.withdraw(store, ref, reason="reporter asked by phone")
    detail = store.reports.get(a)
    assert detail.withdrawn
    assert "narrative" not in detail.document and "reporter" not in detail.document
    assert not store.vault.exists(sha) and done["files_deleted"] == 1
    assert all(i.type != "phone" or i.value == "+85261234567" for i in detail.indicators)
    linked = store.reports.get(b).summary.cluster_id == store.reports.get(a).summary.cluster_id
    assert linked is consent  # without consent its indicators are gone, so it leaves the ring
    last = store.audit.entries()[-1]
    assert last.action == "report.withdraw" and "8123" not in last.details
    assert store.audit.verify().ok
    from ringtrace.indicators import extract_report

    relink.rebuild(store, extract_report)  # a rebuild neither fails on nor resurrects the report
    assert store.reports.get(a).withdrawn
    assert (
        store.reports.get(b).summary.cluster_id == store.reports.get(a).summary.cluster_id
    ) is consent


# -- keys --------------------------------------------------------------------------------


def test_key_rotation_reseals_everything_and_keeps_it_readable(store: Store) -> None:
    rid = add(store, narrative="synthetic", attachments=[att(CHAT)])
    sha = store.reports.get(rid).attachments[0].sha256
    assert sha
    old_ring = store.keys()
    old_id = old_ring.active
    reader = Store(
        store.engine, store.keys.__class__(store.keys.key_file, None), store.vault.root, "reader"
    )
    assert reader.reports.get(rid).document["narrative"] == "synthetic"
    done = key_rotation.rotate(store)
    assert done == {"files": 1, "documents": 1, "retired_keys": 1}
    ring = store.keys()
    assert ring.active != old_id and list(ring.keys) == [ring.active]
    assert ring.key_id(vault_file(store, sha).read_bytes()) == ring.active
    # A second process that loaded the old key file keeps working: it reloads on change.
    assert reader.reports.get(rid).document["narrative"] == "synthetic"
    assert evidence_access.view_attachment(reader, rid, 0)[1] == CHAT


def test_placeholder_key_is_refused(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, vault_key="changeme")
    store = Store.open(settings)
    store.migrate()
    with pytest.raises(ConfigurationError, match="placeholder"):
        add(store, narrative="x")


# -- crash safety ------------------------------------------------------------------------

_WRITER = """
import base64, json, os, sys
from ringtrace.settings import Settings
from ringtrace.store import Store
from ringtrace.services.intake import ingest
from ringtrace.intake.received import receive
store = Store.open(Settings())
big = os.urandom(3 * 1024 * 1024)
prefix = sys.argv[1]  # each round its own references: a killed round's resend is not a conflict
for i in range(10_000):
    doc = {"external_id": f"K-{prefix}-{i}", "received_at": "2024-07-02T21:14:00+08:00",
           "narrative": f"pay to +852 6123 {4000 + i % 1000}",
           "attachments": [{"filename": "v.txt", "content_base64":
               base64.b64encode(b"synthetic %d " % i + big.hex().encode()[: 2_000_000]).decode()}]}
    ingest(store, receive(json.dumps(doc)))
    print(i, flush=True)
"""


@pytest.mark.slow
def test_killing_the_writer_mid_upload_leaves_the_store_consistent(
    store: Store, backend_settings: Settings
) -> None:
    env = {**os.environ, "RINGTRACE_DATA_DIR": str(backend_settings.data_dir)}
    if backend_settings.database_url:
        env["RINGTRACE_DATABASE_URL"] = backend_settings.database_url
    for round_ in range(3):
        proc = subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(round_)], env=env, stdout=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        assert proc.stdout is not None
        proc.stdout.readline()  # at least one report is in
        time.sleep(0.3 + 0.4 * round_)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
    time.sleep(0.1)
    assert store.reports.count() >= 3
    # Every round stored something: no round died on a conflict instead of the kill.
    refs = {r.ref.external_id.split("-")[1] for r in store.reports.page(limit=10_000)}
    assert refs == {"0", "1", "2"}, refs
    # Before anything cleans up: every file under a real name opens and matches its name, so
    # the killed writes left no partial file by themselves (only temporary ones, if any).
    assert store.vault.check() == []
    assert integrity_check.check_evidence(store) == []
    assert store.audit.verify().ok
    creates = [e for e in store.audit.entries() if e.action == "report.create"]
    assert len(creates) == store.reports.count()  # report and audit entry commit together
    temporary = list(store.vault.root.rglob(".tmp-*"))
    assert store.vault.sweep_temporary(older_than_s=0) == len(temporary)


# A writer that stops for good in the middle of storing a file: the file's bytes are written
# but not yet flushed to disk when it is killed.
_STALLED_WRITER = """
import os, sys, time
import ringtrace.evidence.vault as vault_module
from ringtrace.settings import Settings
from ringtrace.store import Store

def stall(fd):
    print("writing", flush=True)
    time.sleep(600)

store = Store.open(Settings())
vault_module.os.fsync = stall
store.vault.put(b"synthetic evidence " * 50_000)
"""


def test_a_write_killed_midway_leaves_no_file_under_its_name(
    sqlite_store: Store, sqlite_settings: Settings
) -> None:
    import hashlib

    store = sqlite_store
    env = {**os.environ, "RINGTRACE_DATA_DIR": str(sqlite_settings.data_dir)}
    env.pop("RINGTRACE_DATABASE_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-c", _STALLED_WRITER], env=env, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "writing"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    digest = hashlib.sha256(b"synthetic evidence " * 50_000).hexdigest()
    assert not store.vault.exists(digest)  # nothing under its real name
    assert digest not in set(store.vault.files())
    assert store.vault.check() == []
    assert len(list(store.vault.root.rglob(".tmp-*"))) == 1  # the write in progress
    assert store.vault.sweep_temporary(older_than_s=0) == 1
