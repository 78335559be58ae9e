"""Who may use the console and the API: `user add`, `user token`."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from ringtrace.cli.base import handle_errors, open_store, settings

user_app = typer.Typer(help="Console users and API tokens.", no_args_is_help=True)


@user_app.command("add")
@handle_errors
def user_add(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="Login name.")],
    agency: Annotated[str, typer.Option(help="Code of the user's agency (its reports' source).")],
    role: Annotated[
        str,
        typer.Option(
            help="victim_support, analyst, supervisor, admin or instance_admin "
            "(an admin who reads every agency's audit log)."
        ),
    ] = "analyst",
    totp: Annotated[bool, typer.Option(help="Enrol an authenticator app (TOTP).")] = False,
    email: Annotated[
        str | None, typer.Option(help="Address for alerts about watched rings.")
    ] = None,
) -> None:
    """Add a user. The password is read from standard input (at least 12 characters)."""
    password = sys.stdin.readline().rstrip("\n") if not sys.stdin.isatty() else typer.prompt(
        "password", hide_input=True, confirmation_prompt=True)  # fmt: skip
    with open_store(settings(ctx)) as store:
        secret = store.accounts.add_user(username, password, agency, role, totp=totp, email=email)
    typer.echo(f"user {username} added ({role}, {agency})")
    if secret:
        typer.echo(f"TOTP secret (enter it in the authenticator app; shown once): {secret}")


@user_app.command("token")
@handle_errors
def user_token(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="Whose token (it acts as that user).")],
    name: Annotated[str, typer.Option(help="What the token is for.")],
) -> None:
    """Create an API token for a user; use it as `Authorization: Bearer TOKEN`."""
    with open_store(settings(ctx)) as store:
        token = store.accounts.create_token(username, name)
    typer.echo(token)
