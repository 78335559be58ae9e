"""The APK sandbox, tested from inside the analysing child: no network, an empty environment,
no access to the data folder or key files, and the time, memory and file-size limits.

Network isolation needs a network namespace or seccomp and file isolation needs Landlock
(Linux 5.13+). Outside CI a machine without them skips these checks and says so; in CI they
must hold."""

from __future__ import annotations

import errno
import json
import os
import resource
import socket
from pathlib import Path
from typing import Any

import pytest

from ringtrace.apk.analysis import ApkError, Limits
from ringtrace.apk.sandbox import SandboxLimits, analyze_isolated

pytestmark = pytest.mark.slow


def _try(fn: Any) -> str:
    try:
        fn()
    except MemoryError:
        return "MemoryError"
    except OSError as e:
        return errno.errorcode.get(e.errno or 0, str(e))
    return "allowed"


def _probe(data: bytes, limits: Limits) -> dict[str, Any]:
    """Runs inside the sandboxed child: what can it reach?"""
    paths = json.loads(data)
    out: dict[str, Any] = {"environ": dict(os.environ)}
    try:
        out["proc_environ"] = Path("/proc/self/environ").read_bytes().decode("latin-1")
    except OSError as e:
        out["proc_environ"] = f"denied ({errno.errorcode.get(e.errno or 0)})"
    out["connect"] = _try(lambda: socket.create_connection(("192.0.2.10", 80), timeout=2))
    out["udp"] = _try(lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(
        b"x", ("192.0.2.10", 53)))  # fmt: skip
    out["io_uring"] = _io_uring()
    out["read_key"] = _try(lambda: Path(paths["key"]).read_bytes())
    out["list_data"] = _try(lambda: os.listdir(paths["data_dir"]))
    out["write"] = _try(lambda: Path(paths["write"]).write_bytes(b"x"))
    out["read_stdlib"] = _try(lambda: Path(json.__file__).read_bytes())
    out["rlimits"] = {
        name: resource.getrlimit(getattr(resource, name))
        for name in ("RLIMIT_AS", "RLIMIT_CPU", "RLIMIT_FSIZE")
    }
    out["allocate"] = _try(lambda: bytearray(paths["allocate"]))
    return out


def _io_uring() -> str:
    """io_uring_setup(4, params): io_uring can open sockets without the socket() call."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    params = ctypes.create_string_buffer(120)
    fd = libc.syscall(425, 4, params)
    if fd >= 0:
        os.close(fd)
        return "allowed"
    return errno.errorcode.get(ctypes.get_errno(), "?")


def _spin(data: bytes, limits: Limits) -> None:
    while True:
        pass


def _require(state: dict[str, str], what: str, value: str) -> None:
    if state.get(what) == value and not os.environ.get("CI"):
        pytest.skip(f"this kernel does not permit the sandbox's {what} isolation "
                    f"({state}); CI requires it")  # fmt: skip


@pytest.fixture
def probe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    data_dir = tmp_path / "ringtrace-data"
    data_dir.mkdir()
    key = data_dir / "vault.key"
    key.write_bytes(b"k" * 32)
    # Secrets in the parent's environment, as the service has them.
    monkeypatch.setenv("RINGTRACE_VAULT_KEY", "the-vault-key")
    monkeypatch.setenv("RINGTRACE_DATA_DIR", str(data_dir))

    def run(sandbox: SandboxLimits = SandboxLimits()) -> tuple[dict[str, Any], dict[str, str]]:
        args = {"key": str(key), "data_dir": str(data_dir), "write": str(tmp_path / "out"),
                "allocate": sandbox.memory_bytes + 64 * 2**20}  # fmt: skip
        out, state = analyze_isolated(json.dumps(args).encode(), sandbox=sandbox, task=_probe)
        return out, state

    return run


def test_child_has_an_empty_environment(probe: Any) -> None:
    out, state = probe()
    assert state["environment"] == "empty"
    assert out["environ"] == {}
    # The child cannot read /proc/self/environ; its initial environment is the fork server's,
    # which started with none (seen from outside: multiprocessing keeps the server's pid).
    assert out["proc_environ"].startswith("denied") or "RINGTRACE" not in out["proc_environ"]
    from multiprocessing import forkserver

    pid = forkserver._forkserver._forkserver_pid  # type: ignore[attr-defined]
    assert b"RINGTRACE" not in Path(f"/proc/{pid}/environ").read_bytes()


def test_child_has_no_network(probe: Any) -> None:
    out, state = probe()
    _require(state, "network", "open")
    assert state["network"] == "namespace"
    assert out["connect"] == "ENETUNREACH" and out["udp"] == "ENETUNREACH"


def test_child_has_no_network_through_seccomp_either(probe: Any) -> None:
    out, state = probe(SandboxLimits(network="seccomp"))
    _require(state, "network", "open")
    assert state["network"] == "seccomp"
    assert out["connect"] == "EPERM" and out["udp"] == "EPERM"
    assert out["io_uring"] == "EPERM"


def test_child_cannot_read_the_data_folder_or_keys(probe: Any) -> None:
    out, state = probe()
    _require(state, "files", "open")
    assert state["files"] == "landlock"
    assert out["read_key"] == "EACCES"
    assert out["list_data"] == "EACCES"
    assert out["write"] == "EACCES"
    assert out["read_stdlib"] == "allowed"  # what the parsers need is still there


def test_child_limits_hold_inside(probe: Any) -> None:
    sandbox = SandboxLimits(memory_bytes=512 * 2**20, cpu_s=20)
    out, _ = probe(sandbox)
    assert tuple(out["rlimits"]["RLIMIT_AS"]) == (512 * 2**20, 512 * 2**20)
    assert tuple(out["rlimits"]["RLIMIT_CPU"]) == (20, 21)
    assert tuple(out["rlimits"]["RLIMIT_FSIZE"]) == (0, 0)
    assert out["allocate"] == "MemoryError"
    # A child that spins is stopped by its CPU limit, then by the wall clock.
    with pytest.raises(ApkError) as e:
        analyze_isolated(b"x", sandbox=SandboxLimits(cpu_s=1, timeout_s=30), task=_spin)
    assert e.value.code == "timeout"
    with pytest.raises(ApkError) as e:
        analyze_isolated(b"x", sandbox=SandboxLimits(timeout_s=0.5), task=_spin)
    assert e.value.code == "timeout"


def test_forked_child_keeps_no_trace_of_the_callers_environment(probe: Any) -> None:
    """The CLI forks the child from itself (no second interpreter to start). The child clears
    its environment and overwrites the block it inherited, so /proc/self/environ is blank."""
    from ringtrace.apk.sandbox import _scrub_initial_environment

    out, state = probe(SandboxLimits(start="fork"))
    assert out["environ"] == {} and state["environment"] == "empty"
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover (the child reports through the pipe)
        os.environ.clear()
        _scrub_initial_environment()
        with open("/proc/self/environ", "rb") as f:
            os.write(w, f.read() or b"-")
        os._exit(0)
    os.close(w)
    os.waitpid(pid, 0)
    seen = os.read(r, 1 << 20)
    os.close(r)
    assert b"RINGTRACE" not in seen and b"PATH=" not in seen


def test_a_kernel_without_isolation_gets_a_clear_warning(
    probe: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from ringtrace.apk import isolation, sandbox

    for fn in ("new_network_namespace", "seccomp_no_sockets", "landlock_read_only"):
        monkeypatch.setattr(isolation, fn, lambda *a: False)  # as a kernel that permits none
    monkeypatch.setattr(sandbox, "_warned", set())
    caplog.set_level("WARNING", logger="ringtrace.apk.sandbox")
    out, state = probe(SandboxLimits(start="fork"))  # a forked child sees the patches
    assert (state["network"], state["files"], state["environment"]) == ("open", "open", "empty")
    assert out["environ"] == {}
    messages = [r.getMessage() for r in caplog.records]
    assert any("keeps network access" in m for m in messages)
    assert any("Landlock is not available" in m for m in messages)
