"""Background jobs behind one small protocol.

A caller hands over a job by kind and arguments (:meth:`JobRunner.submit`) and does not know
who runs it: this process on a thread (:class:`~ringtrace.jobs.threads.ThreadRunner`, the
embedded demo and single-process servers) or ``ringtrace worker`` processes through Redis
(:class:`~ringtrace.jobs.queued.HueyRunner`, when ``RINGTRACE_REDIS_URL`` is set).
:func:`runner_for` chooses from the settings.

Jobs:

- ``apk.analyses``: run the queued APK analyses. The database holds what must be done (an
  ``apk_analyses`` row written with its report), so this only says "look now".
- ``link.batch`` (``engine``): re-cluster every report with the batch linker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from ringtrace.settings import Settings
    from ringtrace.store import Store

APK_ANALYSES = "apk.analyses"
LINK_BATCH = "link.batch"
KINDS = (APK_ANALYSES, LINK_BATCH)


@runtime_checkable
class JobRunner(Protocol):
    def start(self) -> None:
        """Begin running (a server's startup); submitting before is allowed."""

    def stop(self) -> None:
        """Finish what is running and stop (a server's shutdown)."""

    def submit(self, kind: str, **args: Any) -> str | None:
        """Hand over a job of ``kind``. Returns its id when the runner keeps its result
        (`ringtrace job ID`), otherwise None."""


def check_kind(kind: str, args: dict[str, Any]) -> None:
    """Refuse a job the runners do not know, or one without its arguments (a bug)."""
    if kind not in KINDS:
        raise ValueError(f"no job kind {kind!r} (known: {', '.join(KINDS)})")
    if kind == LINK_BATCH and set(args) != {"engine"}:
        raise ValueError("a link.batch job takes one argument, engine")
    if kind == APK_ANALYSES and args:
        raise ValueError("an apk.analyses job takes no arguments")


def runner_for(settings: Settings, store: Store) -> JobRunner:
    """Huey through Redis when ``RINGTRACE_REDIS_URL`` is set, else a thread of this process
    working on ``store``."""
    if settings.redis_url:
        from ringtrace.jobs.queued import HueyRunner
        from ringtrace.tasks import JobQueue

        return HueyRunner(JobQueue(settings))
    from ringtrace.jobs.threads import ThreadRunner

    return ThreadRunner(store)
