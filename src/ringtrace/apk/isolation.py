"""Kernel isolation for the analysing child: no network, and no files outside the Python
installation. Linux only; each step says whether it took effect, and the caller logs what
could not be done.

- **Network**: a new, empty network namespace (``unshare(CLONE_NEWNET)``: only a loopback
  interface that is down). Where that is not permitted (no root, no user namespaces), a
  seccomp filter makes ``socket()`` fail with EPERM for every family but ``AF_UNIX`` (and
  refuses io_uring, which can open sockets on its own).
- **Files**: a Landlock ruleset (Linux 5.13+) that allows reading only the directories of the
  Python standard library, the installed packages and ringtrace itself, and allows no write
  anywhere, so the data folder, the vault and key files cannot be opened even by a process of
  the same user.
"""

from __future__ import annotations

import ctypes
import os
import platform
import struct
import sysconfig
from pathlib import Path

CLONE_NEWNET = 0x40000000
PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
NR_IO_URING_SETUP = 425  # the same on x86_64 and aarch64
_ARCH = {  # AUDIT_ARCH, __NR_socket, first Landlock syscall
    "x86_64": (0xC000003E, 41, 444),
    "aarch64": (0xC00000B7, 198, 444),
}


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def new_network_namespace() -> bool:
    """Move this process into a new, empty network namespace."""
    try:
        return bool(_libc().unshare(CLONE_NEWNET) == 0)
    except (OSError, AttributeError):
        return False


class _SockFilter(ctypes.Structure):
    _fields_ = [
        ("code", ctypes.c_ushort),
        ("jt", ctypes.c_ubyte),
        ("jf", ctypes.c_ubyte),
        ("k", ctypes.c_uint),
    ]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter))]


def seccomp_no_sockets() -> bool:
    """A seccomp filter: ``socket()`` of any family but AF_UNIX fails with EPERM, and so does
    ``io_uring_setup()``."""
    arch = _ARCH.get(platform.machine())
    if arch is None:
        return False
    audit_arch, nr_socket, _ = arch
    ld_w_abs, jeq_k, ret_k = 0x20, 0x15, 0x06
    allow, eperm = 0x7FFF0000, 0x00050000 | 1
    prog = [
        (ld_w_abs, 0, 0, 4),  # arch
        (jeq_k, 0, 6, audit_arch),  # another architecture's calling convention: allow
        (ld_w_abs, 0, 0, 0),  # syscall number
        (jeq_k, 3, 0, NR_IO_URING_SETUP),  # io_uring can open sockets without socket()
        (jeq_k, 0, 3, nr_socket),
        (ld_w_abs, 0, 0, 16),  # args[0]: the address family
        (jeq_k, 1, 0, 1),  # AF_UNIX
        (ret_k, 0, 0, eperm),
        (ret_k, 0, 0, allow),
    ]
    # (Jump offsets count from the next instruction.)
    filters = (_SockFilter * len(prog))(*[_SockFilter(*p) for p in prog])
    fprog = _SockFprog(len(prog), filters)
    libc = _libc()
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        return False
    return bool(libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) == 0)


def readable_roots() -> list[str]:
    """What the child may read: the standard library, installed packages and ringtrace."""
    import ringtrace

    paths = sysconfig.get_paths()
    roots = {paths[k] for k in ("stdlib", "platstdlib", "purelib", "platlib") if k in paths}
    roots.add(str(Path(ringtrace.__file__).resolve().parent))
    return sorted(r for r in roots if os.path.isdir(r))


def landlock_read_only(roots: list[str]) -> bool:
    """Allow reading files under ``roots`` only, and writing nowhere (Landlock)."""
    arch = _ARCH.get(platform.machine())
    if arch is None:
        return False
    base = arch[2]
    libc = _libc()
    libc.syscall.restype = ctypes.c_long
    abi = libc.syscall(base, None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    if abi < 1:
        return False
    handled = (1 << 13) - 1  # ABI 1: execute, write, read, readdir, remove, make-*
    if abi >= 2:
        handled |= 1 << 13  # refer
    if abi >= 3:
        handled |= 1 << 14  # truncate
    attr = struct.pack("<Q", handled)
    ruleset = libc.syscall(base, ctypes.c_char_p(attr), ctypes.c_size_t(len(attr)), 0)
    if ruleset < 0:
        return False
    read = (1 << 0) | (1 << 2) | (1 << 3)  # execute, read file, read dir
    try:
        for root in roots:
            try:
                fd = os.open(root, os.O_PATH | os.O_CLOEXEC)
            except OSError:
                continue
            try:
                rule = struct.pack("<Qi", read, fd)
                libc.syscall(base + 1, ruleset, 1, ctypes.c_char_p(rule), 0)
            finally:
                os.close(fd)
        if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            return False
        return bool(libc.syscall(base + 2, ruleset, 0) == 0)
    finally:
        os.close(ruleset)
