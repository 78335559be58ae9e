"""Reports in and out of the store: `init`, `import`, `extract`, `rebuild`, `schema report`
and `report withdraw`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from ringtrace.cli.base import handle_errors, open_store, settings

schema_app = typer.Typer(help="Publish the interchange schemas.", no_args_is_help=True)
report_app = typer.Typer(help="One report.", no_args_is_help=True)


@handle_errors
def init(ctx: typer.Context) -> None:
    """Prepare the data folder and database (creates or migrates the schema)."""
    from ringtrace.services.setup import initialise

    config = settings(ctx)
    with open_store(config, ready=False) as store:
        done = initialise(store, config)
    typer.echo(f"ready: {done.where} (schema {done.revision})")
    if done.admin_password is not None:
        typer.echo(f"first admin created: user 'admin' of agency {config.home_agency!r}, "
                   f"password {done.admin_password}  (shown once; keep it safe)")  # fmt: skip


@handle_errors
def import_(
    ctx: typer.Context,
    file: Annotated[
        str, typer.Argument(help="JSON Lines file of report-v1 documents, or - for stdin.")
    ],
    skip_invalid: Annotated[
        bool, typer.Option(help="Import the valid lines and list the invalid ones.")
    ] = False,
    mapping: Annotated[
        Path | None, typer.Option(help="Column mapping (JSON) for a CSV file; see docs/sharing.md.")
    ] = None,
    attachments_dir: Annotated[
        Path | None,
        typer.Option(
            help="Folder that attachments[].path may read from (default: the import file's "
            "folder, or the current one for stdin). Paths leading outside it are refused."
        ),
    ] = None,
) -> None:
    """Import reports: report-v1 JSON Lines, a STIX 2.1 bundle or a MISP event (their source
    kept), or CSV with --mapping. Re-importing the same report is a no-op."""
    from ringtrace.services import imports

    def notice(text: str) -> None:
        typer.echo(text, err=True)

    def progress(done: int, total: int) -> None:
        if total >= 200 and (done % 100 == 0 or done == total):
            typer.echo(f"  {done}/{total} reports", err=True)

    config = settings(ctx)
    with open_store(config) as store:
        if file == "-":
            lines, base_dir = sys.stdin.read().splitlines(), Path.cwd()
        else:
            path = Path(file)
            try:
                lines = path.read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError) as e:
                typer.echo(f"error: cannot read {file}: {e}", err=True)
                raise typer.Exit(2) from None
            base_dir = path.parent
        if attachments_dir is not None:
            if not attachments_dir.is_dir():
                typer.echo(f"error: --attachments-dir {attachments_dir} is not a folder", err=True)
                raise typer.Exit(2)
            base_dir = attachments_dir
        rules = imports.read_mapping(mapping) if mapping is not None else None
        lines = imports.report_lines(lines, file, rules, notice)
        summary = imports.import_reports(
            store, lines, base_dir=base_dir, skip_invalid=skip_invalid, progress=progress,
            max_attachment_bytes=config.max_attachment_bytes,
        )  # fmt: skip
        for err in summary.skipped:
            typer.echo(f"skipped: {err}", err=True)
        typer.echo(
            f"imported {summary.created} new, {summary.duplicates} already present, "
            f"{len(summary.skipped)} skipped"
        )
        counts = imports.analyse_pending_apks(
            store, lambda n: notice(f"analysing {n} APK(s) from the evidence…")
        )
    if counts is not None:
        typer.echo(f"APKs: {counts['done']} analysed, {counts['failed']} could not be analysed")


@schema_app.command("report")
def schema_report() -> None:
    """Print the JSON Schema of report-v1."""
    from ringtrace.intake.schema import json_schema

    typer.echo(json.dumps(json_schema(), indent=2, ensure_ascii=False))


@handle_errors
def extract(
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the JSON document of the spec.")
    ] = False,
    country: Annotated[
        str | None,
        typer.Option(help="ISO country of the writer: the region hint for phone numbers."),
    ] = None,
) -> None:
    """Extract indicators from text on standard input."""
    from ringtrace.indicators import extract_text

    text = sys.stdin.read()
    found = extract_text(text, country.upper() if country else None)
    if as_json:
        out = []
        for ind in found:
            first = ind.occurrences[0]
            entry: dict[str, Any] = {
                "type": ind.type, "value": ind.value, "raw": first.raw,
                "start": first.start, "end": first.end,
                "spans": [[o.start, o.end] for o in ind.occurrences],
            }  # fmt: skip
            if ind.excluded_reason:
                entry["excluded_reason"] = ind.excluded_reason
            out.append(entry)
        typer.echo(json.dumps({"indicators": out}, ensure_ascii=False, indent=2))
        return
    for ind in found:
        note = f"  (not linked: {ind.excluded_reason})" if ind.excluded_reason else ""
        typer.echo(f"{ind.type:14} {ind.value}{note}")


@handle_errors
def rebuild(ctx: typer.Context) -> None:
    """Re-derive every indicator and cluster from the stored reports."""
    from ringtrace.indicators import extract_report
    from ringtrace.services import relink

    with open_store(settings(ctx)) as store:
        n = relink.rebuild(store, extract_report)
        clusters = len(store.clusters.ids())
    typer.echo(f"rebuilt {n} reports into {clusters} clusters")


@report_app.command("withdraw")
@handle_errors
def report_withdraw(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(help="The report's source.")],
    external_id: Annotated[str, typer.Argument(help="The report's external id.")],
    reason: Annotated[str, typer.Option(help="Why (recorded in the audit log).")],
) -> None:
    """Erase a reporter's personal data and evidence at their request (audited)."""
    from ringtrace.domain.models import ReportRef
    from ringtrace.services import erasure

    with open_store(settings(ctx)) as store:
        done = erasure.withdraw(store, ReportRef(source, external_id), reason=reason)
    typer.echo(
        f"withdrawn: {done['files_deleted']} evidence files erased, "
        f"{done['indicators_kept']} offender indicators kept, {done['indicators_deleted']} removed"
    )
