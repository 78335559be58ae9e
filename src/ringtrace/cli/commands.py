"""The Typer application: every command module assembled, in the order `ringtrace --help`
lists them. The commands live in thin modules by capability; this module only assembles
them, and :func:`command` turns only the invoked one into a Click command."""

from __future__ import annotations

import copy
import functools
import logging
from collections.abc import Callable, Iterator, MutableMapping
from pathlib import Path
from typing import Annotated, Any

import typer

from ringtrace import __version__
from ringtrace.cli import access, apk, evidence, linking, media, reports, serve, share
from ringtrace.cli.base import LazySettings
from ringtrace.cli.serve import check_bind, proxy_options

__all__ = ["app", "check_bind", "command", "proxy_options"]

app = typer.Typer(
    name="ringtrace",
    help="Link victims' sextortion reports into explained clusters.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def main_options(
    ctx: typer.Context,
    data_dir: Annotated[
        Path | None,
        typer.Option(help="Data folder (database and vault). Env: RINGTRACE_DATA_DIR."),
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option(
            help="Database URL, e.g. postgresql+psycopg://... Env: RINGTRACE_DATABASE_URL."
        ),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress.")] = False,
) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    overrides: dict[str, Any] = {}
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    if database_url is not None:
        overrides["database_url"] = database_url
    ctx.obj = LazySettings(overrides)


def version() -> None:
    """Print the version."""
    typer.echo(__version__)


# Registration order is the order `ringtrace --help` lists them in.
for _name, _fn in (
    (None, reports.init),
    ("import", reports.import_),
    (None, reports.extract),
    (None, linking.clusters),
    (None, reports.rebuild),
    (None, serve.serve),
    (None, serve.job),
    (None, serve.worker),
    (None, serve.demo),
    ("check", evidence.check),
    (None, linking.link),
    (None, linking.explain),
    (None, linking.evaluate),
    (None, version),
):
    app.command(_name)(_fn)
for _group, _name in (
    (reports.schema_app, "schema"),
    (evidence.vault_app, "vault"),
    (evidence.audit_app, "audit"),
    (evidence.evidence_app, "evidence"),
    (reports.report_app, "report"),
    (share.export_app, "export"),
    (linking.cluster_app, "cluster"),
    (linking.suggest_app, "suggestions"),
    (access.user_app, "user"),
    (apk.apk_app, "apk"),
    (media.media_app, "media"),
    (media.takedown_app, "takedown"),
):
    app.add_typer(_group, name=_name)


class _Lazy(MutableMapping[str, Any]):
    """The root group's commands, each turned into a Click command on first use by the same
    Typer functions that would turn them all at once."""

    def __init__(self, typer_app: typer.Typer) -> None:
        from typer.main import get_command_from_info, get_command_name, get_group_from_info

        self._made: dict[str, Any] = {}
        self._make: dict[str, Callable[[], Any]] = {}
        short, markup = typer_app.pretty_exceptions_short, typer_app.rich_markup_mode
        for info in typer_app.registered_commands:
            assert info.callback is not None
            name = info.name or get_command_name(info.callback.__name__)
            self._make[name] = functools.partial(
                get_command_from_info, info, pretty_exceptions_short=short, rich_markup_mode=markup
            )
        for group in typer_app.registered_groups:
            assert group.name is not None
            self._make[group.name] = functools.partial(
                get_group_from_info, group, pretty_exceptions_short=short,
                rich_markup_mode=markup, suggest_commands=typer_app.suggest_commands,
            )  # fmt: skip

    def __getitem__(self, name: str) -> Any:
        if name not in self._made:
            self._made[name] = self._make[name]()  # KeyError for an unknown name
        return self._made[name]

    def __setitem__(self, name: str, command: Any) -> None:
        self._make.setdefault(name, lambda: command)
        self._made[name] = command

    def __delitem__(self, name: str) -> None:
        del self._make[name]
        self._made.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(self._make)

    def __len__(self) -> int:
        return len(self._make)


def command() -> Any:
    """The root Click group, whose commands are built when invoked or listed."""
    shell = copy.copy(app)  # the callback and settings, without the commands
    shell.registered_commands = []
    shell.registered_groups = []
    root = typer.main.get_group(shell)
    root.commands = _Lazy(app)
    return root
