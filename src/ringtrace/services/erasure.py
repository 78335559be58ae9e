"""Withdrawal: erase a reporter's personal data and evidence at their request."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import (
    delete,
    func,
    select,
    update,
)

from ringtrace.domain.models import LinkKey, ReportRef
from ringtrace.store import audit_log as audit
from ringtrace.store import components, integrity, view_columns
from ringtrace.store import media as media_store
from ringtrace.store.database import Store
from ringtrace.store.rows import (
    report_subject,
)
from ringtrace.store.tables import (
    attachments,
    indicators,
    reports,
)


def withdraw(
    store: Store, ref: ReportRef, *, reason: str, actor: str | None = None
) -> dict[str, int]:
    """Erase a reporter's personal data and evidence at their request.

    The document's own key is destroyed (so the sealed text is unreadable anywhere, backups
    included) and replaced by a residue of non-personal fields; evidence files no other
    report holds are deleted; the reporter's own contact is removed. Offender indicators
    stay only if the reporter consented to sharing; otherwise every indicator goes, and
    the clusters are recomputed. The erasure itself is audited, without personal data.
    """
    report_id = store.reports.id_of(ref)
    detail = store.reports.get(report_id)
    if detail.withdrawn:
        return {"files_deleted": 0, "indicators_kept": 0, "indicators_deleted": 0}
    consent = bool((detail.document.get("reporter") or {}).get("consent_share"))
    residue = {
        "withdrawn": True,
        "source": ref.source,
        "external_id": ref.external_id,
        "received_at": detail.document.get("received_at"),
        "tlp": detail.summary.tlp,
    }
    with store.write() as conn:
        shas = [a.sha256 for a in detail.attachments if a.sha256]
        shared = {
            r[0]
            for r in conn.execute(
                select(attachments.c.sha256).where(
                    attachments.c.sha256.in_(shas), attachments.c.report_id != report_id
                )
            )
        }
        conn.execute(
            update(reports)
            .where(reports.c.id == report_id)
            .values(
                document=json.dumps(residue),
                document_key=None,
                withdrawn_at=datetime.now(UTC),
                **view_columns.ERASED,
            )  # the reasons quoted the reporter's words
        )
        integrity.reseal_report(conn, store.integrity_key(), report_id)
        conn.execute(
            update(attachments)
            .where(attachments.c.report_id == report_id)
            .values(filename="[erased]", sha256=None, size=None, stored=False, media_type=None)
        )
        keep = indicators.c.linkable.is_(True) if consent else indicators.c.id.is_(None)
        held = [
            LinkKey(t, v)
            for t, v in conn.execute(
                select(indicators.c.type, indicators.c.value).where(
                    indicators.c.report_id == report_id
                )
            )
        ]
        deleted = conn.execute(
            delete(indicators).where(indicators.c.report_id == report_id, ~keep)
        ).rowcount
        kept = conn.execute(
            select(func.count()).where(indicators.c.report_id == report_id)
        ).scalar_one()
        components.recompute_around(conn, {report_id}, keys=held)
        media_store.withdraw_report(conn, report_id, actor or store.actor, reason)
        audit.append(
            conn,
            actor or store.actor,
            "report.withdraw",
            report_subject(ref),
            {
                "reason": reason,
                "consent_share": consent,
                "files": len(shas),
                "indicators_kept": kept,
                "indicators_deleted": deleted,
            },
        )
    deleted_files = 0
    for sha in set(shas) - shared:
        store.vault.delete(sha)
        deleted_files += 1
    return {
        "files_deleted": deleted_files,
        "indicators_kept": int(kept),
        "indicators_deleted": int(deleted),
    }
