"""The `ringtrace` command. Each command parses its input, calls one core function (often a
use case in :mod:`ringtrace.services`), and maps errors to a one-line message and an exit
code. The commands live in thin modules by capability, assembled in
:mod:`ringtrace.cli.commands`.

Start-up is part of what a user waits for (``ringtrace apk analyze`` is timed against other
tools with it included; docs/decisions.md), so nothing is imported here: command modules
import their core lazily, settings are built when a command first asks, only the invoked
command is turned into a Click command, and the common form of ``apk analyze`` is parsed
without Typer at all (:mod:`ringtrace.cli.apk_analyze`), which falls back to Typer for
anything else, including every error and ``--help``.
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["app", "check_bind", "main", "proxy_options"]


def main() -> None:
    """The console entry point (pyproject.toml)."""
    from ringtrace.cli import apk_analyze

    request = apk_analyze.parse(sys.argv[1:])
    if request is not None:
        sys.exit(apk_analyze.run_command(request))
    from ringtrace.cli.commands import command

    command()()


def __getattr__(name: str) -> Any:
    # `from ringtrace.cli import app` (the tests, `typer.testing.CliRunner`) loads Typer only
    # when asked.
    if name in ("app", "check_bind", "proxy_options", "command"):
        from ringtrace.cli import commands

        return getattr(commands, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
