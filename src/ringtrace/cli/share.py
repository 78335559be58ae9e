"""Sharing with other agencies and engines: `export stix`, `export misp`, `export parquet`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ringtrace.cli.base import handle_errors, open_store, ref, settings

export_app = typer.Typer(help="Exports for other engines.", no_args_is_help=True)


@export_app.command("stix")
@handle_errors
def export_stix(
    ctx: typer.Context,
    output: Annotated[Path, typer.Option(help="File to write the STIX 2.1 bundle to.")],
    cluster: Annotated[int | None, typer.Option(help="Only this cluster.")] = None,
    report: Annotated[
        str | None, typer.Option(help="Only this report, as SOURCE/EXTERNAL_ID.")
    ] = None,
    partner: Annotated[
        str | None,
        typer.Option(help="Export for this partner agency: only what the sharing rules allow it."),
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Only reports received since (ISO 8601 date or time).")
    ] = None,
    narratives: Annotated[
        bool, typer.Option(help="Include narratives where the reporter consented to sharing.")
    ] = False,
) -> None:
    """Export STIX 2.1 (validated with the official stix2-validator before it is written)."""
    from ringtrace.services.exports import export_stix_file, parse_since

    with open_store(settings(ctx)) as store:
        when = parse_since(since)
        objects = export_stix_file(
            store, output, partner=partner, cluster=cluster, since=when, since_text=since,
            report=ref(report) if report else None, narratives=narratives,
        )  # fmt: skip
    typer.echo(f"{objects} STIX objects written to {output}")


@export_app.command("misp")
@handle_errors
def export_misp(
    ctx: typer.Context,
    cluster: Annotated[int, typer.Argument(help="The cluster (ring) to export.")],
    output: Annotated[Path, typer.Option(help="File to write the MISP event JSON to.")],
    partner: Annotated[
        str | None, typer.Option(help="Export for this partner agency (sharing rules apply).")
    ] = None,
) -> None:
    """Export a ring as a MISP event (loadable by PyMISP and MISP's event import)."""
    from ringtrace.services.exports import export_misp_file

    with open_store(settings(ctx)) as store:
        uuid = export_misp_file(store, output, cluster, partner)
    typer.echo(f"MISP event {uuid} written to {output}")


@export_app.command("parquet")
@handle_errors
def export_parquet(
    ctx: typer.Context, folder: Annotated[Path, typer.Argument(help="Folder to write.")]
) -> None:
    """Write reports.parquet, keys.parquet and merges.parquet for the batch linkers."""
    from ringtrace.services import relink

    with open_store(settings(ctx)) as store:
        counts = relink.export_parquet(store, folder)
    typer.echo(
        f"wrote {counts['reports']} reports, {counts['keys']} keys, "
        f"{counts['merges']} merges to {folder}"
    )
