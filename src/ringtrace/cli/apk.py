"""`ringtrace apk`: static analysis of Android apps.

``apk analyze`` is the command users time: its plain forms do not even go through Typer
(:mod:`ringtrace.cli.apk_analyze`, which both paths run).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ringtrace.cli.base import handle_errors, open_store, settings

apk_app = typer.Typer(
    help="Static analysis of Android apps (never installed or run).", no_args_is_help=True
)


@apk_app.command("analyze")
def apk_analyze(
    file: Annotated[Path, typer.Argument(help="The APK file.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds before the analysis is stopped.")] = 60,
) -> None:
    """Analyse an APK in a limited child process: identity, signer, permissions, behaviours
    with call sites, servers, packer signs and a risk level with its reasons."""
    from ringtrace.cli.apk_analyze import analyze

    code = analyze(file, as_json, timeout, typer.echo)
    if code:
        raise typer.Exit(code)


@apk_app.command("process")
@handle_errors
def apk_process(ctx: typer.Context) -> None:
    """Run the queued analyses of APKs that arrived as report evidence, and link by them."""

    def progress(done: int, total: int) -> None:
        typer.echo(f"  analysed {done}/{total} APK(s)", err=True)

    from ringtrace.services import apk_jobs

    with open_store(settings(ctx)) as store:
        counts = apk_jobs.run(store, progress=progress)
    typer.echo(f"{counts['done']} analysed, {counts['failed']} failed, "
               f"{counts['retry']} to retry")  # fmt: skip
