"""Importing reports: the formats a file may hold, then the import and the analysis of the
APKs that came with it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ringtrace.errors import InvalidReport

if TYPE_CHECKING:
    from ringtrace.services.intake import ImportSummary
    from ringtrace.store import Store

Notice = Callable[[str], None]


def read_mapping(path: Path) -> Any:
    """The column mapping of a CSV import."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise InvalidReport(f"cannot read the mapping {path}: {e}") from None


def report_lines(lines: list[str], name: str, mapping: Any | None, notice: Notice) -> list[str]:
    """report-v1 JSON Lines from what was read: CSV rows through ``mapping``, a STIX 2.1
    bundle or a MISP event (their source kept), or JSON Lines as they are."""
    if mapping is not None:
        from ringtrace.share.csv_import import rows_to_reports

        return [
            json.dumps(d, ensure_ascii=False) for d in rows_to_reports("\n".join(lines), mapping)
        ]
    return _maybe_stix(lines, name, notice)


def _maybe_stix(lines: list[str], name: str, notice: Notice) -> list[str]:
    """A STIX bundle (one JSON document, possibly over many lines) becomes report-v1 lines."""
    text = "\n".join(lines).strip()
    if not text.startswith("{") or ('"bundle"' not in text and '"Event"' not in text):
        return lines
    try:
        doc = json.loads(text)
    except ValueError:
        return lines
    if isinstance(doc, dict) and isinstance(doc.get("Event"), dict):
        from ringtrace.share.misp import event_to_report

        notice("MISP event: 1 report")
        return [json.dumps(event_to_report(doc, f"misp:{Path(name).name}"), ensure_ascii=False)]
    if not isinstance(doc, dict) or doc.get("type") != "bundle":
        return lines
    from ringtrace.share.stix import to_reports

    reports = to_reports(doc, default_source=f"stix:{Path(name).name}")
    notice(f"STIX bundle: {len(reports)} report(s)")
    return [json.dumps(r, ensure_ascii=False) for r in reports]


def import_reports(
    store: Store,
    lines: list[str],
    *,
    base_dir: Path,
    skip_invalid: bool,
    max_attachment_bytes: int,
    progress: Callable[[int, int], None],
) -> ImportSummary:
    """Import report-v1 lines (all or nothing, unless ``skip_invalid``)."""
    from ringtrace.services.intake import import_lines

    return import_lines(
        store, lines, base_dir=base_dir, skip_invalid=skip_invalid, progress=progress,
        max_attachment_bytes=max_attachment_bytes,
    )  # fmt: skip


def analyse_pending_apks(store: Store, analysing: Callable[[int], None]) -> dict[str, int] | None:
    """Analyse the APKs an import brought before the command exits (``analysing`` is told how
    many first); None when there were none."""
    from ringtrace.services import apk_jobs

    pending = len(store.apk.pending())
    if not pending:
        return None
    analysing(pending)
    return apk_jobs.run(store)
