"""What every command module shares: the settings, the store (always closed), report
references and the mapping of errors to one line and an exit code.

Nothing heavy is imported here: a command that needs neither settings nor a database
(``apk analyze``, ``media hash``, ``version``) never loads pydantic or SQLAlchemy.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import typer

from ringtrace.errors import ImportFailed, InvalidReport, RingtraceError

if TYPE_CHECKING:
    from ringtrace.domain.models import ReportRef
    from ringtrace.settings import Settings
    from ringtrace.store import Store

P = ParamSpec("P")
R = TypeVar("R")


class LazySettings:
    """The global options, turned into :class:`Settings` when a command first asks."""

    def __init__(self, overrides: dict[str, Any]) -> None:
        self.overrides = overrides
        self._settings: Settings | None = None

    def get(self) -> Settings:
        if self._settings is None:
            from ringtrace.settings import Settings

            self._settings = Settings(**self.overrides)
        return self._settings


def settings(ctx: typer.Context) -> Settings:
    root = ctx.find_root().obj
    assert isinstance(root, LazySettings)  # set by the main callback; a programming error otherwise
    return root.get()


@contextmanager
def open_store(settings: Settings, *, ready: bool = True) -> Iterator[Store]:
    """The store of these settings, closed when the command ends (its last writes anchored)."""
    from ringtrace.store import Store

    store = Store.open(settings)
    try:
        if ready:
            store.ensure_ready()
        yield store
    finally:
        store.close()


def ref(text: str) -> ReportRef:
    """A report named as SOURCE/EXTERNAL_ID."""
    from ringtrace.domain.models import ReportRef

    if "/" not in text:
        raise InvalidReport(f"{text!r}: give a report as SOURCE/EXTERNAL_ID")
    source, external_id = text.split("/", 1)
    return ReportRef(source, external_id)


def handle_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn a RingtraceError into one line on stderr and its exit code."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except ImportFailed as e:
            for err in e.errors:
                typer.echo(f"error: {err}", err=True)
            typer.echo(f"error: {len(e.errors)} invalid line(s); nothing was imported "
                       "(use --skip-invalid to import the valid lines)", err=True)  # fmt: skip
            raise typer.Exit(e.exit_code) from None
        except RingtraceError as e:
            typer.echo(f"error: {e}", err=True)
            raise typer.Exit(e.exit_code) from None

    return wrapper
