"""The intake pipeline: validate -> store as received -> extract -> link.

Shared by the CLI importer, the JSON API and the web form, so every door does the same thing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ringtrace.errors import ImportFailed, InvalidReport
from ringtrace.indicators import extract_report
from ringtrace.intake.received import DEFAULT_MAX_ATTACHMENT, Received, receive
from ringtrace.services import intake
from ringtrace.store.database import Store
from ringtrace.store.rows import AddResult

log = logging.getLogger(__name__)


def ingest(store: Store, received: Received, actor: str | None = None) -> AddResult:
    """Store one validated report and link it."""
    return intake.submit(store, received, extract_report(received.doc), actor)


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
            conflict = intake.find_conflict(store, rec)
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
