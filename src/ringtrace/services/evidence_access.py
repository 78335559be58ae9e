"""Reading an evidence file: every view is audited with the real actor."""

from __future__ import annotations

from ringtrace.errors import (
    NotFound,
)
from ringtrace.store import audit_log as audit
from ringtrace.store.database import Store
from ringtrace.store.rows import (
    AttachmentRow,
    report_subject,
)


def view_attachment(
    store: Store, report_id: int, position: int, *, actor: str | None = None
) -> tuple[AttachmentRow, bytes]:
    """An evidence file's bytes; every view is audited."""
    detail = store.reports.get(report_id)
    match = [a for a in detail.attachments if a.position == position]
    att = match[0] if match else None
    if att is None or not att.stored or att.sha256 is None:
        raise NotFound(f"report {report_id} has no stored attachment {position}")
    data = store.vault.get(att.sha256)
    with store.write() as conn:
        audit.append(
            conn,
            actor or store.actor,
            "evidence.view",
            report_subject(detail.summary.ref),
            {"position": position, "sha256": att.sha256},
        )
    return att, data
