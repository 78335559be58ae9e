"""Taking a report in: store it, its evidence and indicators, and link it, in one transaction.

The pipeline is validate -> store as received -> extract -> link. Every door (the API, the
public form, a file import, a TAXII post) hands a received report to :func:`ingest` (one) or
:func:`import_lines` (a file); many concurrent submissions share one write transaction
(store/group_commit.py), and an acknowledgement always means stored.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    select,
)
from sqlalchemy.exc import IntegrityError

from ringtrace.domain.models import Indicator, LinkKey, ReportRef
from ringtrace.errors import (
    Conflict,
    ImportFailed,
    InvalidReport,
)
from ringtrace.indicators import extract_report
from ringtrace.intake.received import DEFAULT_MAX_ATTACHMENT, Received, receive
from ringtrace.services import notifications
from ringtrace.store import analyst, components
from ringtrace.store import audit_log as audit
from ringtrace.store.database import Store
from ringtrace.store.group_commit import GroupCommit
from ringtrace.store.rows import (
    AddResult,
    apply_policy,
    report_subject,
    stored_value,
)
from ringtrace.store.tables import (
    report_clusters,
)


class _CutsChanged(Exception):
    """An analyst cut a key while a batch was inserting: redo it with the new cuts."""


@dataclass
class _Batch:
    """What one group-commit transaction reads once for all its reports."""

    cuts: dict[LinkKey, str] | None = None
    watching: dict[int, list[tuple[int, str | None]]] | None = None
    audit: list[tuple[str, str, str, dict[str, Any]]] = field(default_factory=list)


log = logging.getLogger(__name__)
_writer_lock = threading.Lock()


def writer(store: Store) -> GroupCommit:
    """This process's group-commit writer for ``store`` (created and started on first use)."""
    with _writer_lock:
        if store.writer is None:
            store.writer = GroupCommit(functools.partial(_store_batch, store))
        return store.writer


def start_writer(store: Store) -> None:
    """Start the writer thread now rather than on the first report."""
    writer(store).start()


# Run inside the report's own transaction, once it is stored and linked: (conn, report id).
Then = Callable[[Connection, int], None]


def submit(
    store: Store,
    received: Received,
    found: Sequence[Indicator],
    actor: str | None = None,
    *,
    then: Then | None = None,
) -> AddResult:
    """Store a report, its evidence and indicators, and link it, in one transaction (with
    whatever ``then`` does, e.g. tie a follow-up to its report).

    The same ``(source, external_id)`` with the same content is a no-op; with different
    content it is a :class:`Conflict` (reports are never modified).
    """
    doc = received.doc
    # No lookup first: the unique (source, external_id) catches a report sent again,
    # and the answer is then worked out from the stored one.
    for blob in received.blobs:  # files first: a crash leaves at most an orphan file
        store.vault.put(blob.data)
    try:
        report_id, cluster_id, mails = writer(store).submit(
            (received, found, actor or store.actor, then)
        )
    except IntegrityError:
        # Sent again (a retry, a re-import), or twice at once and the other copy won.
        existing = store.reports.existing(doc.source, doc.external_id)
        if existing is None:
            raise
        return _duplicate(store, existing, received)
    notifications.send(store, mails)
    return AddResult(report_id, cluster_id, created=True)


def _link_one(
    store: Store,
    conn: Connection,
    batch: _Batch,
    report_id: int,
    received: Received,
    found: Sequence[Indicator],
    actor: str,
) -> tuple[int, int, list[tuple[str, str, str]]]:
    """Link and audit one inserted report; the caller holds the link lock."""
    from ringtrace.access import alerts as alert_store

    doc = received.doc
    if batch.watching is None:
        batch.watching = alert_store.watchers(conn)
    inserted = [(LinkKey(ind.type, stored_value(ind)), ind.linkable, ind.strong) for ind in found]
    cluster_id = components.refresh_after_insert(conn, report_id, inserted=inserted)
    mails = alert_store.on_new_member(conn, cluster_id, report_id, store.public_url, batch.watching)
    batch.audit.append(
        (
            actor,
            "report.create",
            report_subject(ReportRef(doc.source, doc.external_id)),
            {
                "report_id": report_id,
                "content_sha256": received.content_sha256,
                "attachments": [b.sha256 for b in received.blobs],
                "indicators": len(found),
                "cluster_id": cluster_id,
            },
        )
    )
    return report_id, cluster_id, mails


def _store_all(store: Store, items: list[Any]) -> list[Any]:
    """Insert, link and audit reports in one transaction.

    On PostgreSQL the rows are inserted before the link lock is taken: inserts need no
    order (the unique key catches a duplicate), so two processes insert at once and
    hold the lock only to link. Under READ COMMITTED every statement after the lock
    sees what earlier lock holders committed, and a batch that inserts meanwhile links
    after us and sees ours. The analysts' cuts decide what may link, so if one was
    made while we inserted, the batch is redone.
    """
    with store.read() as conn, conn.begin():
        cuts = analyst.cut_keys(conn)
        batch = _Batch(cuts=cuts)
        for _, found, _, _ in items:
            apply_policy(found, cuts)
        ids = store.reports.insert_many(
            conn, [(received, found) for received, found, _, _ in items]
        )
        if store.dialect == "postgresql":  # rows in; now the lock, to link
            store.take_link_lock(conn)
            if analyst.cut_keys(conn) != cuts:
                raise _CutsChanged
        out = []
        for rid, (received, found, actor, then) in zip(ids, items, strict=True):
            out.append(_link_one(store, conn, batch, rid, received, found, actor))
            if then is not None:
                then(conn, rid)
        audit.append_many(conn, batch.audit)
        return out


def _store_batch(store: Store, items: list[Any]) -> list[Any]:
    """Group commit: store many reports in one write transaction (one lock, one commit).
    If one of them fails (a concurrent duplicate, say), the transaction is rolled back
    and each is stored in its own, so only that one fails. Answers a result or an
    exception per item."""
    for _ in range(3):
        try:
            return _store_all(store, items)
        except _CutsChanged:
            continue
        except Exception:
            if len(items) == 1:
                raise
            break
    out: list[Any] = []
    for item in items:
        try:
            out.append(_store_all(store, [item])[0])
        except Exception as e:  # that report only; the others go on
            out.append(e)
    return out


def _duplicate(store: Store, existing: tuple[int, str], received: Received) -> AddResult:
    report_id, sha = existing
    if sha != received.content_sha256:
        raise Conflict(
            f"report {received.doc.source}/{received.doc.external_id} already exists with "
            "different content; reports are immutable, send a new external_id"
        )
    with store.read() as conn:
        cluster = conn.execute(
            select(report_clusters.c.cluster_id).where(report_clusters.c.report_id == report_id)
        ).scalar()
    return AddResult(report_id, cluster, created=False)


def find_conflict(store: Store, received: Received) -> str | None:
    """Why adding ``received`` would fail, or None (used to check a whole file first)."""
    existing = store.reports.existing(received.doc.source, received.doc.external_id)
    if existing is not None and existing[1] != received.content_sha256:
        return "a report with this source and external_id already exists with other content"
    return None


def ingest(
    store: Store, received: Received, actor: str | None = None, *, then: Then | None = None
) -> AddResult:
    """Extract the indicators of one validated report, store it and link it."""
    return submit(store, received, extract_report(received.doc), actor, then=then)


@dataclass
class ImportSummary:
    created: int = 0
    duplicates: int = 0
    skipped: list[InvalidReport] = field(default_factory=list)


def import_lines(
    store: Store,
    lines: Iterable[str],
    *,
    base_dir: Path | None = None,
    skip_invalid: bool = False,
    progress: Callable[[int, int], None] | None = None,
    max_attachment_bytes: int = DEFAULT_MAX_ATTACHMENT,
    actor: str | None = None,
) -> ImportSummary:
    """Import a JSON Lines file.

    Every line is validated before anything is stored. With an invalid line, nothing from
    the file is imported (:class:`ImportFailed` lists every bad line) unless
    ``skip_invalid``, in which case the valid lines are imported and the bad ones reported.
    """
    good: list[Received] = []
    errors: list[InvalidReport] = []
    seen: dict[tuple[str, str], tuple[int, str]] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            rec = receive(
                line, line=number, base_dir=base_dir, max_attachment_bytes=max_attachment_bytes
            )
            ident = (rec.doc.source, rec.doc.external_id)
            earlier = seen.get(ident)
            if earlier is not None and earlier[1] != rec.content_sha256:
                raise InvalidReport(
                    f"same source and external_id as line {earlier[0]} with other content",
                    field="external_id",
                    line=number,
                )
            conflict = find_conflict(store, rec)
            if conflict:
                raise InvalidReport(conflict, field="external_id", line=number)
            seen.setdefault(ident, (number, rec.content_sha256))
            good.append(rec)
        except InvalidReport as e:
            errors.append(e)
    if errors and not skip_invalid:
        raise ImportFailed(errors)
    summary = ImportSummary(skipped=errors)
    for done, rec in enumerate(good, start=1):
        result = ingest(store, rec, actor)
        if result.created:
            summary.created += 1
        else:
            summary.duplicates += 1
        if progress:
            progress(done, len(good))
    log.info(
        "import finished: %d new, %d already present, %d skipped",
        summary.created, summary.duplicates, len(errors),
    )  # fmt: skip
    return summary
