"""`ringtrace apk`: static analysis of Android apps.

``apk analyze`` is the command users time: it imports only what the analysis needs (the
sandbox and the parsers), never the settings, the database or the other commands.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

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
    from ringtrace.apk.analysis import ApkError
    from ringtrace.apk.sandbox import SandboxLimits, analyze_isolated

    try:
        # A one-shot command holds no secret: fork the isolated child from it directly.
        r = analyze_isolated(file, sandbox=SandboxLimits(timeout_s=timeout, start="fork"))
    except ApkError as e:
        if as_json:
            typer.echo(json.dumps({"error": {"code": e.code, "message": e.message}}))
        else:
            typer.echo(f"error: {file}: {e.message} ({e.code})", err=True)
        raise typer.Exit(e.exit_code) from None
    if as_json:
        typer.echo(json.dumps(r, indent=2, ensure_ascii=False))
        return
    _render(r)


def _render(r: dict[str, Any]) -> None:
    typer.echo(f"{r['package']} \"{r['label'] or ''}\" {r['version_name'] or ''} "
               f"(SDK {r['min_sdk']}-{r['target_sdk']})  sha256 {r['sha256']}")  # fmt: skip
    typer.echo(f"risk: {r['risk']['level'].upper()}")
    for reason in r["risk"]["reasons"]:
        typer.echo(f"  - {reason}")
    if r["certificates"]:
        for c in r["certificates"]:
            typer.echo(f"signed by {c['sha256']} ({', '.join(c['schemes'])}): {c['subject']}")
    else:
        typer.echo("unsigned")
    for b in r["behaviours"]:
        typer.echo(f"behaviour: {b['title']}")
        for ev in b["evidence"][:3]:
            where = ev.get("call") or ev.get("manifest") or " -> ".join(ev.get("reads_via", []))
            typer.echo(f"    {ev.get('method', '')} {where}")
    for ep in r["endpoints"]:
        where = ", ".join(ep["found_in"])
        if ep.get("link_key"):
            typer.echo(f"server: {ep['value']}  ({ep['usage']}, {ep['confidence']}; in {where})")
        else:
            why = ep.get("why_not_linked") or ""
            typer.echo(f"context: {ep['value']}  ({why}; in {where})")
    for acc in r.get("cloud_projects", []) + r.get("bots", []):
        typer.echo(f"account: {acc['key']}  ({acc['service']})")
    for ep in r["ignored_endpoints"]:
        typer.echo(f"ignored: {ep['value']}  ({ep['reason']})")
    for p in r["permissions"]:
        typer.echo(f"permission: {p['name']} [{p['protection_level']}]")


@apk_app.command("process")
@handle_errors
def apk_process(ctx: typer.Context) -> None:
    """Run the queued analyses of APKs that arrived as report evidence, and link by them."""

    def progress(done: int, total: int) -> None:
        typer.echo(f"  analysed {done}/{total} APK(s)", err=True)

    with open_store(settings(ctx)) as store:
        counts = store.run_apk_analyses(progress=progress)
    typer.echo(f"{counts['done']} analysed, {counts['failed']} failed, "
               f"{counts['retry']} to retry")  # fmt: skip
