"""The launcher: ``python -m grader.sandbox.launcher CONFIG -- COMMAND...``.

Runs in the child, still privileged, before the command (pytest): enters new
network, IPC and mount namespaces where the OS allows it (as root, inside a
user namespace of its own whose ``max_user_namespaces`` it lowers, so that
student code can create none), brings up an isolated loopback, applies the
mount plan (:mod:`grader.sandbox.mounts`), puts the work folder on a
size-limited tmpfs, sets resource limits, and forks the command under a small
supervisor: a child subreaper that kills every descendant, daemonised or not,
when the command ends or the grader says stop. ``--probe`` prints what this
machine allows (:mod:`grader.sandbox.probe`).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
from pathlib import Path

from grader.sandbox.config import LAUNCHER_FAILED, MQUEUE
from grader.sandbox.probe import probe
from grader.sandbox.syscalls import (
    CLONE_NEWIPC,
    CLONE_NEWNET,
    CLONE_NEWNS,
    CLONE_NEWPID,
    CLONE_NEWUSER,
    MS_BIND,
    MS_NODEV,
    MS_NOEXEC,
    MS_NOSUID,
    MS_PRIVATE,
    MS_RDONLY,
    MS_REC,
    MS_REMOUNT,
    PR_SET_CHILD_SUBREAPER,
    cover,
    enter_root_userns,
    limit_user_namespaces,
    loopback_up,
    map_user,
    mount,
    mount_proc,
    prctl,
    unshare,
)
from grader.sandbox.uids import tasks_of_uid


def overmount(
    target: str, keep: list[str], writable: bool, tmp_mb: int, links: dict | None = None
) -> None:
    fds = []
    for path in keep:
        fds.append((path, os.open(path, os.O_PATH), os.path.isdir(path)))
    opts = f"mode={'1777' if writable else '0755'},size={tmp_mb if writable else 1}m"
    mount("grader-sandbox", target, "tmpfs", MS_NOSUID | MS_NODEV, opts)
    for path, fd, is_dir in fds:
        if is_dir:
            os.makedirs(path, mode=0o755, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
            Path(path).touch()
        mount(f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC)
        os.close(fd)
    for link, dest in (links or {}).items():
        os.symlink(dest, link)
    if not writable:
        mount(None, target, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)


def stage_mounts(stage: dict, work_mb: int) -> None:
    """The work folder becomes a tmpfs of ``work_mb`` holding its files; the stage turns read-only.

    All the child may write then lies in memory of bounded size (this folder,
    the private ``/tmp``-like ones) or in the files the parent reads
    (``stage["writable"]``, each kept writable), never on the host's disk.
    The tmpfs exists only in the child's mount namespace and dies with it.
    """
    root, work = stage["root"], stage["work"]
    for path in stage["writable"]:
        if os.path.isdir(path):
            mount(path, path, None, MS_BIND | MS_REC)
    files = []
    with os.scandir(work) as entries:
        for entry in entries:
            if entry.is_file(follow_symlinks=False):
                st = entry.stat(follow_symlinks=False)
                files.append((entry.name, Path(entry.path).read_bytes(), st.st_mode & 0o777))
    owner = os.stat(work)
    mount("grader-work", work, "tmpfs", MS_NOSUID | MS_NODEV,
           f"mode=0700,uid={owner.st_uid},gid={owner.st_gid},size={work_mb}m")  # fmt: skip
    for name, data, mode in files:
        path = os.path.join(work, name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chown(path, owner.st_uid, owner.st_gid)
    mount(root, root, None, MS_BIND | MS_REC)
    mount(None, root, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
    os.chdir(work)  # the tmpfs, not the folder beneath it


def _set_limits(limits: dict, running: int) -> None:
    """``running``: tasks of the child's real uid already counted against RLIMIT_NPROC."""
    import resource

    mb = 2**20
    wanted = {
        resource.RLIMIT_AS: limits["address_space_mb"] * mb,
        resource.RLIMIT_CPU: limits["cpu_seconds"],
        resource.RLIMIT_FSIZE: limits["file_size_mb"] * mb,
        resource.RLIMIT_NOFILE: limits["open_files"],
        resource.RLIMIT_CORE: 0,
    }
    if limits["processes"]:
        # Counted per real uid: exact for a sandbox uid; otherwise on top of what runs now.
        wanted[resource.RLIMIT_NPROC] = limits["processes"] + running
    for which, value in wanted.items():
        if not value and which != resource.RLIMIT_CORE:
            continue
        _soft, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(which, (value, value))


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError, IndexError):
                with open(f"/proc/{entry}/stat") as fh:
                    after = fh.read().rsplit(")", 1)[1].split()
                if int(after[1]) == pid:
                    found.append(int(entry))
    return found


def _kill_descendants() -> None:
    """As a child subreaper: kill every child until none is left (orphans come to us)."""
    me = os.getpid()
    while True:
        for pid in _children(me):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return
        except InterruptedError:  # pragma: no cover
            continue


def launch(config: dict, cmd: list[str]) -> int:
    """Enter the sandbox, then run ``cmd`` under a supervisor; returns its exit status."""
    try:
        flags = (CLONE_NEWNET if config["net"] else 0) | (CLONE_NEWNS if config["mounts"] else 0)
        pidns = bool(config.get("pidns")) and config["userns"] and bool(config["mounts"])
        if pidns:
            flags |= CLONE_NEWPID  # pytest becomes PID 1 of a namespace of its own
        if config.get("ipc"):
            flags |= CLONE_NEWIPC  # System V objects and POSIX queues die with the run
        running = 0 if config["per_uid"] else tasks_of_uid(os.getuid())
        max_userns = config.get("max_userns")
        if config["userns"]:
            # Root of the namespace, so that pytest keeps the power to mount across
            # exec (enter_user_sandbox gives it up, and the real uid back).
            uid, gid = os.getuid(), os.getgid()
            unshare(CLONE_NEWUSER | flags)
            map_user(uid, gid, inside=(0, 0) if config["mounts"] else None)
        elif config.get("own_userns"):
            enter_root_userns(flags)
        else:
            if flags:
                unshare(flags)
            max_userns = None  # the host's own namespace: not ours to limit
        if max_userns is not None:
            limit_user_namespaces(max_userns)
        if config["net"]:
            loopback_up()
        if config["mounts"]:
            mount(None, "/", None, MS_REC | MS_PRIVATE)
            for op in config["mounts"]:
                if op["op"] == "overmount":
                    overmount(op["target"], op["keep"], op["writable"],
                               config["limits"]["tmp_size_mb"] or 64, op.get("links"))  # fmt: skip
                else:
                    cover(op["target"])
            if config.get("ipc") and os.path.isdir(MQUEUE):
                mount("mqueue", MQUEUE, "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC)
            if config.get("stage"):
                stage_mounts(config["stage"], config["limits"].get("work_size_mb") or 64)
        _set_limits(config["limits"], running)
        prctl(PR_SET_CHILD_SUBREAPER, 1)
    except (OSError, KeyError, ValueError) as exc:
        print(f"grader-sandbox: could not set up isolation: {exc}", file=sys.stderr, flush=True)
        return LAUNCHER_FAILED
    child = os.fork()
    if child == 0:  # pragma: no cover - replaced by pytest at once
        try:
            if pidns:
                mount_proc()
            os.execv(cmd[0], cmd)
        finally:
            os._exit(LAUNCHER_FAILED)

    def stop(signum, frame) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(child, signal.SIGKILL)

    signal.signal(signal.SIGTERM, stop)
    status = None
    while status is None:
        try:
            pid, wait_status = os.waitpid(-1, 0)
        except ChildProcessError:  # pragma: no cover
            break
        except InterruptedError:  # pragma: no cover
            continue
        if pid == child:
            status = wait_status
    _kill_descendants()
    if status is None:  # pragma: no cover
        return LAUNCHER_FAILED
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig not in (signal.SIGKILL, signal.SIGSTOP):
            signal.signal(sig, signal.SIG_DFL)
        os.kill(os.getpid(), sig)
    return os.waitstatus_to_exitcode(status)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv == ["--probe"]:
        print(json.dumps(probe()))
        return 0
    if len(argv) < 3 or argv[1] != "--":
        print("usage: python -m grader.sandbox.launcher CONFIG -- COMMAND...", file=sys.stderr)
        return 2
    return launch(json.loads(argv[0]), argv[2:])


if __name__ == "__main__":
    sys.exit(main())
