"""Exports for partners' tools: a STIX 2.1 bundle or a MISP event, written and audited."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ringtrace.errors import InvalidReport

if TYPE_CHECKING:
    from ringtrace.domain.models import ReportRef
    from ringtrace.store import Store


def parse_since(text: str | None) -> datetime | None:
    """An ISO 8601 date or time; UTC when it names no zone."""
    from datetime import UTC

    if not text:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidReport("--since must be an ISO 8601 date or time") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _write(output: Path, document: dict[str, Any]) -> None:
    output.write_text(
        json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False), encoding="utf-8"
    )


def export_stix_file(
    store: Store,
    output: Path,
    *,
    partner: str | None,
    cluster: int | None,
    report: ReportRef | None,
    since: datetime | None,
    since_text: str | None,
    narratives: bool,
) -> int:
    """Write a STIX 2.1 bundle, validated with the official validator first; audited. The
    number of objects written."""
    from ringtrace.share.stix import export, validate

    ids = [store.reports.id_of(report)] if report else None
    bundle = export(store, agency=partner, cluster_id=cluster, report_ids=ids, since=since,
                    include_narratives=narratives)  # fmt: skip
    errors = validate(bundle)
    if errors:
        raise InvalidReport(f"the export failed STIX validation: {errors[0]}")
    _write(output, bundle)
    details = {"partner": partner, "objects": len(bundle["objects"]), "since": since_text}
    store.audit.record("export.stix", f"cluster:{cluster}" if cluster else "store", details)
    return len(bundle["objects"])


def export_misp_file(store: Store, output: Path, cluster: int, partner: str | None) -> str:
    """Write a ring as a MISP event; audited. The event's UUID."""
    from ringtrace.share.misp import export_event

    event = export_event(store, cluster, agency=partner)
    _write(output, event)
    store.audit.record("export.misp", f"cluster:{cluster}", {"partner": partner})
    return str(event["Event"]["uuid"])
