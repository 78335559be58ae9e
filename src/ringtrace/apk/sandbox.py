"""Run an APK analysis in a child process with a time limit, a memory limit and a size limit.

The child comes from a fork server that has already imported androguard, so each analysis
starts in milliseconds. Before it reads the file, the child lowers its own limits. Its address
space is capped (RLIMIT_AS), and so is its CPU time (RLIMIT_CPU). It cannot create or grow
files (RLIMIT_FSIZE = 0). The parent kills it at the wall-clock timeout. Whatever happens in
the child (a parser bug, a zip bomb, an exhausted limit), the caller gets a result or an
:class:`ApkError` with a clear code, never a crash.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import resource
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ringtrace.apk.analysis import DEFAULT_LIMITS, ApkError, Limits

_lock = threading.Lock()
# The peak resident memory of the last child that finished (MiB), for the benchmark.
last_peak_rss_mib = 0.0
_context: Any = None


@dataclass(frozen=True)
class SandboxLimits:
    timeout_s: float = 60.0
    memory_bytes: int = 768 * 2**20  # address space, which is more than resident memory
    cpu_s: int = 60


DEFAULT_SANDBOX = SandboxLimits()


def _ctx() -> Any:
    global _context
    with _lock:
        if _context is None:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(["ringtrace.apk.preload"])
            _context = ctx
    return _context


def _child(
    data: bytes,
    conn: multiprocessing.connection.Connection,
    sandbox: SandboxLimits,
    limits: Limits,
) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (sandbox.memory_bytes, sandbox.memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (sandbox.cpu_s, sandbox.cpu_s + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    try:
        from ringtrace.apk.analysis import analyze_bytes

        result = analyze_bytes(data, limits)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        conn.send(("ok", result, peak))
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
) -> dict[str, Any]:
    """Analyse an APK (bytes or a path) in a limited child process."""
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
    ctx = _ctx()
    receiver, sender = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(data, sender, sandbox, limits), daemon=True)
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
        result: dict[str, Any] = message[1]
        global last_peak_rss_mib
        last_peak_rss_mib = float(message[2])
        return result
    raise ApkError(message[1], message[2])
