"""What this machine allows: which namespaces a sandboxed run can have, probed once."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass

from grader.sandbox.config import base_env
from grader.sandbox.syscalls import (
    CLONE_NEWIPC,
    CLONE_NEWNET,
    CLONE_NEWNS,
    CLONE_NEWPID,
    CLONE_NEWUSER,
    MS_NOSUID,
    MS_PRIVATE,
    MS_REC,
    enter_root_userns,
    in_new_pid_namespace,
    limit_user_namespaces,
    map_user,
    mount,
    mount_proc,
    unshare,
)


@dataclass(frozen=True)
class Capabilities:
    root: bool
    netns: bool  # a new network namespace (as root, or in a user namespace)
    userns: bool  # namespaces need a user namespace first (not root)
    mountns: bool  # a new mount namespace (hiding files, private /tmp)
    pidns: bool = False  # not root: a PID namespace with its own /proc
    ipcns: bool = False  # an IPC namespace: System V objects and POSIX queues die with the run
    # Student code cannot create user namespaces (the sandbox owns one whose
    # max_user_namespaces it lowers); as root, the launcher enters that namespace first.
    no_userns: bool = False

    def notices(self) -> list[str]:
        out = []
        if self.mountns and not self.no_userns:
            out.append("student code may create user namespaces here (they cannot be disabled)")
        if self.mountns and not self.ipcns:
            out.append("no IPC namespace here: System V objects of student code outlive the run")
        if not self.netns:
            out.append("network isolation unavailable here: student code can use the network")
        if not self.root and not self.mountns:
            out.append(
                "not running as root, and no user namespaces here: student code runs as this "
                "user, can read the hidden tests and solutions, and can signal the grader "
                "(grade as root, e.g. in a container, for full isolation)"
            )
        elif not self.root and not self.pidns:
            out.append(
                "no PID namespace here: student code runs as this user and can signal the "
                "grader's processes (grade as root, e.g. in a container, for full isolation)"
            )
        elif not self.mountns:
            out.append(
                "mount namespaces unavailable: hidden files are not hidden from student code"
            )
        return out


@functools.cache
def capabilities(python: str = sys.executable) -> Capabilities:
    """Probe once, in a throwaway process, which namespaces this machine allows."""
    root = os.geteuid() == 0
    try:
        out = subprocess.run(
            [python, "-m", "grader.sandbox.launcher", "--probe"],
            env=base_env(), capture_output=True, timeout=30, check=False, text=True,
        ).stdout  # fmt: skip
        found = json.loads(out.strip().splitlines()[-1])
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        found = {}
    if root:
        return Capabilities(
            True, bool(found.get("net")), False, bool(found.get("mount")),
            ipcns=bool(found.get("ipc")), no_userns=bool(found.get("rootuser")),
        )  # fmt: skip
    return Capabilities(
        root=False,
        netns=bool(found.get("usernet")),
        userns=bool(found.get("usernet") or found.get("usermount")),
        mountns=bool(found.get("usermount")),
        pidns=bool(found.get("userpid")),
        ipcns=bool(found.get("useripc")),
        no_userns=bool(found.get("usercap")),
    )


def probe() -> dict:
    root = os.geteuid() == 0
    tries = {
        "net": (CLONE_NEWNET, root),
        "mount": (CLONE_NEWNS, root),
        "usernet": (CLONE_NEWUSER | CLONE_NEWNET, True),
        "usermount": (CLONE_NEWUSER | CLONE_NEWNS, not root),
        "userpid": (CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID, not root),
        "ipc": (CLONE_NEWIPC, root),
        "useripc": (CLONE_NEWUSER | CLONE_NEWIPC, not root),
        # A user namespace whose max_user_namespaces is lowered: none can be made inside.
        "rootuser": (CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC, root),
        "usercap": (CLONE_NEWUSER, not root),
    }
    found = {}
    for name, (flags, wanted) in tries.items():
        if not wanted:
            found[name] = False
            continue
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child reports through its exit status
            try:
                if name == "rootuser":
                    enter_root_userns(flags & ~CLONE_NEWUSER)
                else:
                    unshare(flags)
                if flags & CLONE_NEWUSER and name != "rootuser":
                    map_user(os.getuid(), os.getgid())
                if name in ("rootuser", "usercap"):
                    limit_user_namespaces(0)
                    with contextlib.suppress(OSError):
                        unshare(CLONE_NEWUSER)
                        os._exit(1)  # the limit did not hold
                if flags & CLONE_NEWNS:
                    mount(None, "/", None, MS_REC | MS_PRIVATE)
                    mount("grader-probe", tempfile.gettempdir(), "tmpfs", MS_NOSUID, "size=4k")
                if flags & CLONE_NEWPID:
                    os._exit(in_new_pid_namespace(mount_proc))
                os._exit(0)
            except BaseException:
                os._exit(1)
        _, status = os.waitpid(pid, 0)
        found[name] = os.waitstatus_to_exitcode(status) == 0
    return found
