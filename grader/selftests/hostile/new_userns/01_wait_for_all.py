"""Hostile: create a user namespace (its root may mount, and attack the kernel) three ways."""

import contextlib
import ctypes
import os
import platform
import subprocess

CLONE_NEWUSER, SIGCHLD = 0x10000000, 17
SYS_CLONE = {"x86_64": 56, "aarch64": 220}.get(platform.machine())


def in_child(attempt) -> bool:
    """``attempt()`` in a forked (single-threaded) child; whether it succeeded."""
    pid = os.fork()
    if pid == 0:
        try:
            os._exit(0 if attempt() else 1)
        except BaseException:
            os._exit(1)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0


def created() -> int:
    libc = ctypes.CDLL(None, use_errno=True)
    made = in_child(lambda: libc.unshare(CLONE_NEWUSER) == 0)
    if hasattr(os, "unshare"):  # Python 3.12+
        made += in_child(lambda: os.unshare(CLONE_NEWUSER) is None)
    if SYS_CLONE is not None:
        pid = libc.syscall(SYS_CLONE, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0)
        if pid == 0:
            os._exit(0)
        if pid > 0:
            os.waitpid(pid, 0)
            made += 1
    with contextlib.suppress(OSError):
        made += subprocess.run(["unshare", "-U", "true"], capture_output=True).returncode == 0
    return made


def fetch_all(urls, fetch):
    raise RuntimeError(f"created {created()} user namespaces")
