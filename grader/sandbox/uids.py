"""The sandbox uids: a locked pool, and finding and killing every process of one."""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import time
from pathlib import Path


class UidLease:
    """One sandbox uid, locked for the duration of a run (concurrent graders share the pool)."""

    def __init__(self, base: int, count: int) -> None:
        self._fh = None
        lock_dir = Path("/run/grader-sandbox")
        lock_dir.mkdir(mode=0o700, exist_ok=True)
        st = lock_dir.stat()
        if st.st_uid != 0 or st.st_mode & 0o077:
            raise RuntimeError(f"{lock_dir} must be a root-only directory")
        for uid in range(base, base + count):
            fh = open(lock_dir / f"uid-{uid}.lock", "a")  # noqa: SIM115 - held for the run
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                fh.close()
                continue
            self._fh, self.uid, self.gid = fh, uid, uid
            kill_uid(uid)  # anything a crashed grader left behind
            return
        raise RuntimeError(f"all {count} sandbox uids from {base} are in use")

    def release(self) -> None:
        if self._fh is not None:
            kill_uid(self.uid)
            self._fh.close()
            self._fh = None


def status_fields(pid: str) -> dict[str, str]:
    fields = {}
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return fields


def processes_of_uid(uid: int) -> list[int]:
    """Live (not zombie) processes whose real, effective or saved uid is ``uid``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = status_fields(entry)
        except OSError:
            continue
        if fields.get("State", "").startswith(("Z", "X")):
            continue
        if str(uid) in fields.get("Uid", "").split():
            found.append(int(entry))
    return found


def kill_uid(uid: int, rounds: int = 200) -> bool:
    """Stop, then kill, every process of ``uid`` until none is left (a fork bomb included)."""
    for _ in range(rounds):
        pids = processes_of_uid(uid)
        if not pids:
            return True
        for sig in (signal.SIGSTOP, signal.SIGKILL):
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, sig)
        time.sleep(0.005)
    return not processes_of_uid(uid)


def tasks_of_uid(uid: int) -> int:
    count = 0
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            with contextlib.suppress(OSError, ValueError):
                fields = status_fields(pid)
                if fields.get("Uid", "").split()[:1] == [str(uid)]:
                    count += int(fields.get("Threads", "1"))
    return count
