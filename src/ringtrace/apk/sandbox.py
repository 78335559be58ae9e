"""Run an APK analysis in an isolated child process with time, memory and size limits.

The child comes from a fork server that has already imported androguard, so each analysis
starts in milliseconds. The fork server is started with an empty environment, so no secret
(the vault key, a database URL) is inherited. Before it reads the file, the child:

- clears its environment;
- leaves the network: a new, empty network namespace, or where that is not permitted a
  seccomp filter that refuses every non-Unix socket (:mod:`ringtrace.apk.isolation`);
- confines its file access with Landlock: it can read the Python installation and nothing
  else (not the data folder, the vault or key files) and write nowhere;
- caps its address space (RLIMIT_AS), its CPU time (RLIMIT_CPU) and file writes
  (RLIMIT_FSIZE = 0). The parent kills it at the wall-clock timeout.

What could not be applied on this kernel is logged as a warning and recorded in the result's
``sandbox`` field. Whatever happens in the child (a parser bug, a zip bomb, an exhausted
limit), the caller gets a result or an :class:`ApkError` with a clear code, never a crash.
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.connection
import os
import resource
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ringtrace.apk import isolation
from ringtrace.apk.analysis import DEFAULT_LIMITS, ApkError, Limits

log = logging.getLogger(__name__)

_lock = threading.Lock()
# The peak resident memory of the last child that finished (MiB), for the benchmark.
last_peak_rss_mib = 0.0
_context: Any = None


@dataclass(frozen=True)
class SandboxLimits:
    timeout_s: float = 60.0
    memory_bytes: int = 768 * 2**20  # address space, which is more than resident memory
    cpu_s: int = 60
    network: str = "namespace"  # "namespace" (seccomp if not permitted) or "seccomp"
    # "forkserver": children of a clean server process (for long-running services, whose
    # memory holds secrets). "fork": a child of the caller itself, which saves starting a
    # second interpreter; only for a short-lived caller that holds no secret (the CLI).
    start: str = "forkserver"


DEFAULT_SANDBOX = SandboxLimits()


def _ctx() -> Any:
    global _context
    with _lock:
        if _context is None:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(["ringtrace.apk.preload"])
            _start_clean(ctx)
            _context = ctx
    return _context


def _start_clean(ctx: Any) -> None:
    """Start the fork server with an empty environment (once, at the first analysis), so no
    child ever holds the parent's secrets, even in /proc/self/environ."""
    from multiprocessing import forkserver

    saved = dict(os.environ)
    os.environ.clear()
    try:
        forkserver.ensure_running()
    finally:
        os.environ.update(saved)


def _scrub_initial_environment() -> None:
    """Overwrite the environment block the process started with (what /proc/self/environ
    shows), which ``os.environ.clear()`` leaves in memory."""
    try:
        with open("/proc/self/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        start, end = int(fields[47]), int(fields[48])  # env_start, env_end (fields 50, 51)
    except (OSError, IndexError, ValueError):
        return
    if 0 < start < end:
        import ctypes

        ctypes.memset(start, 0, end - start)


def _isolate(sandbox: SandboxLimits) -> dict[str, str]:
    """Confine this (child) process; say what took effect."""
    os.environ.clear()
    _scrub_initial_environment()
    state = {"environment": "empty"}
    if sandbox.network == "namespace" and isolation.new_network_namespace():
        state["network"] = "namespace"
    elif isolation.seccomp_no_sockets():
        state["network"] = "seccomp"
    else:
        state["network"] = "open"
    roots = isolation.readable_roots()
    state["files"] = "landlock" if isolation.landlock_read_only(roots) else "open"
    resource.setrlimit(resource.RLIMIT_AS, (sandbox.memory_bytes, sandbox.memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (sandbox.cpu_s, sandbox.cpu_s + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    state["limits"] = (
        f"memory {sandbox.memory_bytes // 2**20} MiB, cpu {sandbox.cpu_s} s, no file writes"
    )
    return state


_warned: set[str] = set()


def _warn(state: dict[str, str]) -> None:
    """Log, once per process, each isolation this kernel did not permit."""
    missing = {k for k in ("network", "files") if state.get(k) == "open"} - _warned
    _warned.update(missing)
    if "network" in missing:
        log.warning(
            "APK sandbox: this kernel permits neither a network namespace nor a seccomp "
            "filter; the analysing child keeps network access"
        )
    if "files" in missing:
        log.warning(
            "APK sandbox: Landlock is not available; the analysing child can read any file "
            "its user can (keep the data folder and keys readable by the service user only)"
        )


def _child(
    data: bytes,
    conn: multiprocessing.connection.Connection,
    sandbox: SandboxLimits,
    limits: Limits,
    task: Callable[[bytes, Limits], Any] | None = None,
) -> None:
    state = _isolate(sandbox)
    try:
        from ringtrace.apk.analysis import analyze_bytes

        if task is not None:
            conn.send(("ok", (task(data, limits), state), 0.0, state))
            return
        result = analyze_bytes(data, limits)
        result["sandbox"] = state
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        conn.send(("ok", result, peak, state))
    except ApkError as e:
        conn.send(("error", e.code, e.message))
    except MemoryError:
        conn.send(("error", "memory_limit", "the analysis needed more memory than allowed"))
    except RecursionError:
        conn.send(("error", "crashed", "the file is nested too deeply to analyse"))
    except Exception as e:  # a parser bug on a hostile file must not take the caller down
        conn.send(("error", "crashed", f"the analysis failed ({type(e).__name__})"))
    finally:
        conn.close()


def analyze_isolated(
    source: bytes | Path,
    *,
    sandbox: SandboxLimits = DEFAULT_SANDBOX,
    limits: Limits = DEFAULT_LIMITS,
    task: Callable[[bytes, Limits], Any] | None = None,
) -> Any:
    """Analyse an APK (bytes or a path) in a limited child process. ``task`` replaces the
    analysis (a module-level function of ``(data, limits)``), and the call then returns
    ``(what the task returned, the isolation that took effect)``: the tests use it to probe
    the sandbox from inside."""
    if isinstance(source, Path):
        try:
            size = source.stat().st_size
        except OSError:
            raise ApkError("not_found", f"cannot read {source}") from None
        if size > limits.max_file_bytes:
            raise ApkError("too_large", f"the file is over {limits.max_file_bytes // 2**20} MiB")
        data = source.read_bytes()
    else:
        data = source
    if len(data) > limits.max_file_bytes:
        raise ApkError("too_large", f"the file is over {limits.max_file_bytes // 2**20} MiB")
    if sandbox.start == "fork":
        import ringtrace.apk.preload  # noqa: F401  (loaded once, shared with the child)

        ctx = multiprocessing.get_context("fork")
    else:
        ctx = _ctx()
    receiver, sender = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(data, sender, sandbox, limits, task), daemon=True)
    proc.start()
    sender.close()
    try:
        if not receiver.poll(sandbox.timeout_s):
            proc.kill()
            raise ApkError("timeout", f"the analysis took longer than {sandbox.timeout_s:g} s")
        try:
            message = receiver.recv()
        except (EOFError, OSError):
            proc.join(5)
            code = proc.exitcode
            if code is not None and code < 0 and -code in (9, 24):  # SIGKILL, SIGXCPU
                raise ApkError(
                    "timeout", "the analysis ran out of CPU time or was killed"
                ) from None
            raise ApkError("crashed", f"the analysis process died (exit {code})") from None
    finally:
        receiver.close()
        proc.join(5)
        if proc.is_alive():
            proc.kill()
            proc.join()
    if message[0] == "ok":
        result = message[1]
        global last_peak_rss_mib
        last_peak_rss_mib = float(message[2])
        _warn(message[3])
        return result
    raise ApkError(message[1], message[2])
