"""Typed rows and the conversions between indicators and their stored rows, shared by
the repositories and the services."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ringtrace.domain.models import Indicator, LinkKey, Occurrence, ReportRef
from ringtrace.indicators.report import OWN_CONTACT_REASON
from ringtrace.linking.specificity import WEAK_TYPES
from ringtrace.store import analyst


@dataclass(frozen=True)
class AddResult:
    report_id: int
    cluster_id: int | None
    created: bool  # False when the same document was already stored (idempotent re-import)

    @property
    def linked(self) -> bool:
        """Whether the report shares a cluster: a cluster is named by its smallest report
        id, so it is another report's id exactly when the report is not alone."""
        return self.cluster_id is not None and self.cluster_id != self.report_id


@dataclass(frozen=True)
class ReportSummary:
    id: int
    ref: ReportRef
    received_at: datetime
    country: str | None
    tlp: str
    cluster_id: int | None
    cluster_size: int


@dataclass(frozen=True)
class AttachmentRow:
    position: int
    filename: str
    media_type: str | None
    sha256: str | None
    size: int | None
    stored: bool
    detected_type: str | None = None


@dataclass(frozen=True)
class ReportDetail:
    summary: ReportSummary
    document: dict[str, Any]
    indicators: list[Indicator]
    attachments: list[AttachmentRow]
    withdrawn: bool = False


def aad(source: str, external_id: str) -> bytes:
    return f"report:{source}/{external_id}".encode()


def report_subject(ref: ReportRef) -> str:
    return f"report:{ref.source}/{ref.external_id}"


def utc(dt: datetime) -> datetime:
    if dt.tzinfo is None:  # SQLite returns naive datetimes; they were stored as UTC
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def apply_policy(found: Sequence[Indicator], cuts: dict[LinkKey, str]) -> None:
    """Exclusions decided before linking: analysts' cuts and weak types."""
    for ind in found:
        if ind.key in cuts:
            ind.excluded_reason = analyst.CUT_PREFIX + cuts[ind.key]
        elif ind.excluded_reason is None and ind.type in WEAK_TYPES:
            ind.excluded_reason = WEAK_TYPES[ind.type]


def indicator_row(report_id: int, ind: Indicator) -> dict[str, Any]:
    return {
        "report_id": report_id,
        "type": ind.type,
        "value": stored_value(ind),
        "linkable": ind.linkable,
        "excluded_reason": ind.excluded_reason,
        "extractor": ind.extractor,
        "extractor_version": ind.extractor_version,
        "attributes": json.dumps(ind.attributes, sort_keys=True),
        "occurrences": json.dumps(stored_occurrences(ind)),
        "strong": ind.strong,
        "cue_strong": ind.cue_strong,
    }


def stored_value(ind: Indicator) -> str:
    # The reporter's own contact details are personal data: only a short digest is kept, so
    # the page can say "one of the numbers here was the reporter's own" without showing it.
    if ind.excluded_reason == OWN_CONTACT_REASON:
        return "withheld:" + hashlib.sha256(ind.value.encode()).hexdigest()[:16]
    return ind.value


def stored_occurrences(ind: Indicator) -> list[dict[str, Any]]:
    occ = [o.to_dict() for o in ind.occurrences]
    if ind.excluded_reason == OWN_CONTACT_REASON:
        for o in occ:
            o["raw"] = "[withheld]"
    return occ


def indicator_from_row(row: Any) -> Indicator:
    return Indicator(
        type=row.type,
        value=row.value,
        extractor=row.extractor,
        extractor_version=row.extractor_version,
        occurrences=[Occurrence(**o) for o in json.loads(row.occurrences)],
        attributes=json.loads(row.attributes),
        excluded_reason=row.excluded_reason,
    )
