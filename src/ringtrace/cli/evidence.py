"""Integrity and evidence: `check`, the `vault`, the `audit` chain and court packages
(`evidence`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from ringtrace.cli.base import handle_errors, open_store, settings

vault_app = typer.Typer(help="The encrypted evidence vault.", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)
evidence_app = typer.Typer(help="Court packages of evidence.", no_args_is_help=True)


@vault_app.command("rotate-key")
@handle_errors
def vault_rotate_key(ctx: typer.Context) -> None:
    """Seal every evidence file and document key under a new key, then retire the old one.
    Safe while the server runs: readers pick up the new key file as it changes."""
    from ringtrace.services import key_rotation

    with open_store(settings(ctx)) as store:
        done = key_rotation.rotate(store)
    typer.echo(
        f"re-sealed {done['files']} evidence files and {done['documents']} document keys; "
        f"retired {done['retired_keys']} old key(s)"
    )


@vault_app.command("check")
@handle_errors
def vault_check(ctx: typer.Context) -> None:
    """Open every evidence file and check it against its name; exit 7 on any problem."""
    from ringtrace.services import integrity_check

    with open_store(settings(ctx)) as store:
        problems = integrity_check.check_evidence(store)
        files = 0 if problems else sum(1 for _ in store.vault.files())
    for p in problems:
        typer.echo(f"bad: {p}", err=True)
    if problems:
        raise typer.Exit(7)
    typer.echo(f"ok: {files} evidence files verified")


@handle_errors
def check(ctx: typer.Context) -> None:
    """Walk the whole store: every report row against its MAC, the audit chain (edited,
    rewritten or cut short, against its anchor) and every evidence file. Exit 7 on any
    problem; when all is well, the audit chain's head is anchored again."""
    from ringtrace.services import integrity_check

    with open_store(settings(ctx)) as store:
        problems = integrity_check.check(store)
    for p in problems:
        typer.echo(f"bad: {p}", err=True)
    if problems:
        raise typer.Exit(7)
    typer.echo("ok: report rows, audit chain and evidence verified")


@audit_app.command("verify")
@handle_errors
def audit_verify(
    ctx: typer.Context,
    anchor: Annotated[
        Path | None,
        typer.Option(help="An anchor saved by `ringtrace audit anchor` to check against."),
    ] = None,
) -> None:
    """Check the audit chain; name the first entry that was edited, deleted or reordered."""
    from ringtrace.services.audit import anchor_holds

    with open_store(settings(ctx)) as store:
        result = store.audit.verify()
        if not result.ok:
            typer.echo(f"audit log broken at entry {result.first_bad}: {result.problem}", err=True)
            raise typer.Exit(7)
        if anchor is not None:
            holds, seq = anchor_holds(store, anchor)
            if not holds:
                typer.echo(f"audit log does not contain anchor entry {seq} as saved", err=True)
                raise typer.Exit(7)
    typer.echo(f"ok: {result.checked} audit entries verified")


@audit_app.command("anchor")
@handle_errors
def audit_anchor(ctx: typer.Context) -> None:
    """Print the chain head as JSON, to be kept somewhere else (detects a rewritten log)."""
    with open_store(settings(ctx)) as store:
        result = store.audit.verify()
    if not result.ok or result.head is None:
        typer.echo(
            "error: the audit log is empty or broken; run `ringtrace audit verify`", err=True
        )
        raise typer.Exit(7)
    head = result.head
    typer.echo(json.dumps({"seq": head.seq, "hash": head.hash, "at": head.at}))


@evidence_app.command("package")
@handle_errors
def evidence_package(
    ctx: typer.Context,
    target: Annotated[str, typer.Argument(help="A cluster id, or SOURCE/EXTERNAL_ID of a report.")],
    out: Annotated[Path, typer.Argument(help="The zip file to write.")],
) -> None:
    """Write a court package: files, manifest, audit entries, explanation, HTML and PDF."""
    from ringtrace.court import make_package

    with open_store(settings(ctx)) as store:
        digest = make_package(store, target, out)
    typer.echo(f"wrote {out} (manifest SHA-256 {digest}, recorded in the audit log)")


@evidence_app.command("verify")
@handle_errors
def evidence_verify(
    package: Annotated[Path, typer.Argument(help="A zip written by `ringtrace evidence package`.")],
) -> None:
    """Check a court package offline; exit 8 on any change."""
    from ringtrace.evidence.package import verify

    problems = verify(package)
    for p in problems:
        typer.echo(f"bad: {p}", err=True)
    if problems:
        raise typer.Exit(8)
    typer.echo(f"ok: {package} verifies")
