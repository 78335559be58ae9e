"""Edits made behind ringtrace's back: each kind is found by `ringtrace check` and an edited
report is not served, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, select, text, update
from typer.testing import CliRunner

from ringtrace.cli import app
from ringtrace.evidence.audit import entry_hash
from ringtrace.evidence.keys import TamperedData
from ringtrace.services.intake import import_lines
from ringtrace.settings import Settings
from ringtrace.store import Store
from ringtrace.store.tables import attachments, audit_log, reports
from tests.factories import line, report


def _seed(store: Store) -> list[int]:
    docs = [
        report(narrative=f"pay +852 6123 45{n:02d}", tlp="amber+strict", country="HK",
               attachments=[{"filename": f"Chan Tai Man chat {n}.txt",
                             "content_base64": "c3ludGhldGlj"}])
        for n in range(4)
    ]  # fmt: skip
    import_lines(store, [line(d) for d in docs])
    with store.engine.connect() as conn:
        return [int(r) for r in conn.execute(select(reports.c.id).order_by(reports.c.id)).scalars()]


def _check(settings: Settings) -> tuple[int, str]:
    env = {"RINGTRACE_DATA_DIR": str(settings.data_dir)}
    if settings.database_url:
        env["RINGTRACE_DATABASE_URL"] = settings.database_url
    res = CliRunner().invoke(app, ["check"], env=env)
    return res.exit_code, res.output


def test_a_clean_store_checks_out(store: Store, backend_settings: Settings) -> None:
    _seed(store)
    code, out = _check(backend_settings)
    assert code == 0 and "ok:" in out, out


@pytest.mark.parametrize(
    ("column", "value"),
    [("tlp", "green"), ("country", "SG"), ("source", "other-agency"),
     ("received_at", datetime(2020, 1, 1, tzinfo=UTC)),
     # The columns kept for lists: consent opens the document to other agencies, urgency
     # decides what is read first.
     ("consent_share", True), ("urgency_points", 100), ("urgency_crisis", True),
     ("urgency_reasons", "[\"the reporter is under 18\"]")],
)  # fmt: skip
def test_an_edited_report_row_is_found_and_not_served(
    store: Store, backend_settings: Settings, column: str, value: object
) -> None:
    ids = _seed(store)
    with store.engine.begin() as conn:
        conn.execute(update(reports).where(reports.c.id == ids[1]).values({column: value}))
    with pytest.raises(TamperedData, match="integrity"):
        store.reports.get(ids[1])
    store.reports.get(ids[0])  # the others are still served
    with pytest.raises(TamperedData, match="integrity"):  # lists check the row too
        store.reports.views([ids[1]])
    code, out = _check(backend_settings)
    assert code == 7 and f"report {ids[1]}" in out, out


def test_a_rewritten_audit_chain_is_found(store: Store, backend_settings: Settings) -> None:
    """Edit an entry and recompute every SHA-256 from it onward, as someone with the database
    but without the keys could: the plain chain verifies, the MACs do not."""
    _seed(store)
    with store.engine.begin() as conn:
        rows = conn.execute(select(audit_log).order_by(audit_log.c.seq)).all()
        prev = rows[1].prev_hash
        for r in rows[1:]:
            actor = "user:someone-else" if r.seq == rows[1].seq else r.actor
            digest = entry_hash(r.seq, r.at, actor, r.action, r.subject, r.details, prev)
            conn.execute(
                update(audit_log)
                .where(audit_log.c.seq == r.seq)
                .values(actor=actor, prev_hash=prev, hash=digest)
            )
            prev = digest
    chain = store.audit.verify()
    assert not chain.ok and chain.first_bad == rows[1].seq and "MAC" in (chain.problem or "")
    code, out = _check(backend_settings)
    assert code == 7 and "audit log" in out


def test_deleting_the_newest_audit_entries_is_found(
    store: Store, backend_settings: Settings
) -> None:
    _seed(store)
    assert _check(backend_settings)[0] == 0  # anchors the head
    with store.engine.begin() as conn:
        last = conn.execute(select(audit_log.c.seq).order_by(audit_log.c.seq.desc())).first()
        assert last is not None
        conn.execute(delete(audit_log).where(audit_log.c.seq > last[0] - 2))
    chain = store.audit.verify()
    assert not chain.ok and "anchored" in (chain.problem or "")
    code, out = _check(backend_settings)
    assert code == 7 and "newest entries deleted" in out


def test_a_changed_evidence_byte_is_found(store: Store, backend_settings: Settings) -> None:
    _seed(store)
    path = next(p for p in store.vault.root.rglob("*") if p.is_file())
    data = bytearray(path.read_bytes())
    data[-1] ^= 0x01
    path.write_bytes(bytes(data))
    code, out = _check(backend_settings)
    assert code == 7 and "bad:" in out


def test_file_names_are_sealed_and_files_owner_only(
    store: Store, backend_settings: Settings
) -> None:
    ids = _seed(store)
    with store.engine.connect() as conn:
        names = list(conn.execute(select(attachments.c.filename)).scalars())
        dump = " ".join(
            str(v) for row in conn.execute(text("SELECT * FROM attachments")) for v in row
        )
    assert names and "Chan Tai Man" not in dump
    assert store.reports.get(ids[0]).attachments[0].filename == "Chan Tai Man chat 0.txt"
    if backend_settings.database_url is None:
        for p in backend_settings.data_dir.glob("ringtrace.sqlite3*"):
            assert stat.S_IMODE(os.stat(p).st_mode) == 0o600, p
    anchor = store.anchor_file
    if anchor.exists():
        assert stat.S_IMODE(anchor.stat().st_mode) == 0o600
        assert json.loads(anchor.read_text())["seq"] >= 1
