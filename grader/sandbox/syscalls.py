"""The Linux calls the sandbox makes: namespaces, mounts, prctl, id maps.

Thin wrappers over libc (through ctypes where Python has no binding, e.g.
``unshare`` on 3.11): each raises :class:`OSError` with the call's name.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import os
import socket
import struct
from pathlib import Path

CLONE_NEWNS = 0x00020000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
PR_SET_CHILD_SUBREAPER, PR_SET_NO_NEW_PRIVS = 36, 38

_libc = None


def _c():
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    return _libc


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def unshare(flags: int) -> None:
    if hasattr(os, "unshare"):
        os.unshare(flags)
    else:  # Python 3.11
        _check(_c().unshare(ctypes.c_int(flags)), "unshare")


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str = "") -> None:
    enc = [s.encode() if s is not None else None for s in (source, target, fstype, data)]
    _check(_c().mount(enc[0], enc[1], enc[2], ctypes.c_ulong(flags), enc[3]), f"mount {target}")


def prctl(option: int, value: int) -> None:
    _check(_c().prctl(option, ctypes.c_ulong(value), 0, 0, 0), "prctl")


def map_user(uid: int, gid: int, inside: tuple[int, int] | None = None) -> None:
    """Map the user namespace just entered: ``uid``/``gid`` outside are ``inside`` in it."""
    in_uid, in_gid = inside or (uid, gid)
    Path("/proc/self/setgroups").write_text("deny")
    Path("/proc/self/uid_map").write_text(f"{in_uid} {uid} 1")
    Path("/proc/self/gid_map").write_text(f"{in_gid} {gid} 1")


def _identity_map(target: int) -> None:
    """Map every id of this namespace to itself in ``target``'s new user namespace."""
    for name in ("uid_map", "gid_map"):
        lines = Path(f"/proc/self/{name}").read_text().split("\n")
        ranges = [line.split() for line in lines if line.strip()]
        text = "".join(f"{first} {first} {count}\n" for first, _outside, count in ranges)
        fd = os.open(f"/proc/{target}/{name}", os.O_WRONLY)
        try:
            os.write(fd, text.encode())
        finally:
            os.close(fd)


def enter_root_userns(flags: int) -> None:
    """As root: enter a new user namespace (with ``flags``) in which every id is itself.

    Root keeps its powers, but over the new namespaces only: that lets the
    sandbox lower this namespace's ``max_user_namespaces``, which student code
    (another uid inside) cannot raise again. Only a process outside may write
    such a map (as ``newuidmap`` does): a helper forked first writes it.
    """
    ready_r, ready_w = os.pipe()
    helper = os.fork()
    if helper == 0:  # pragma: no cover - reports through its exit status
        code = 1
        try:
            os.close(ready_w)
            target = os.read(ready_r, 32)
            if target:
                _identity_map(int(target))
                code = 0
        finally:
            os._exit(code)
    os.close(ready_r)
    try:
        unshare(CLONE_NEWUSER | flags)
        os.write(ready_w, str(os.getpid()).encode())
    finally:
        os.close(ready_w)
        _, status = os.waitpid(helper, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise OSError(errno.EPERM, "could not map the sandbox's user namespace")


def limit_user_namespaces(count: int) -> None:
    """Allow only ``count`` more user namespaces below the one this process is root of.

    Student code, without that power, can neither create one (``unshare -U``,
    ``clone``) nor raise the limit; as bubblewrap's ``--disable-userns``.
    """
    Path("/proc/sys/user/max_user_namespaces").write_text(str(count))


def outer_ids() -> tuple[int, int]:
    """The uid and gid that this user namespace's root stands for outside it."""
    ids = []
    for name in ("uid_map", "gid_map"):
        inside, outside, _count = Path(f"/proc/self/{name}").read_text().split()[:3]
        ids.append(int(outside) if inside == "0" else int(inside))
    return ids[0], ids[1]


def loopback_up() -> None:
    """Bring ``lo`` up in the new network namespace: localhost works, nothing else."""
    siocgifflags, siocsifflags, iff_up = 0x8913, 0x8914, 0x1
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        ifreq = struct.pack("16sH22x", b"lo", 0)
        flags = struct.unpack("16sH22x", fcntl.ioctl(s, siocgifflags, ifreq))[1]
        fcntl.ioctl(s, siocsifflags, struct.pack("16sH22x", b"lo", flags | iff_up))


def in_new_pid_namespace(work) -> int:
    """Run ``work()`` as PID 1 of the namespace just unshared; 0 if it returned."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - reports through its exit status
        try:
            work()
            os._exit(0)
        except BaseException:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def mount_proc() -> None:
    """A /proc of the new PID namespace: the grader's processes are not in it."""
    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)


def cover(target: str) -> None:
    """An empty, read-only folder over ``target``: what was there cannot be reached."""
    mount("grader-sandbox", target, "tmpfs", MS_NOSUID | MS_NODEV | MS_RDONLY, "mode=0755,size=4k")


def no_new_privileges() -> None:
    with contextlib.suppress(OSError, AttributeError):
        prctl(PR_SET_NO_NEW_PRIVS, 1)
    os.umask(0o077)
