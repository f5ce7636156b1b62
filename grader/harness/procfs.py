"""Reading ``/proc`` (Linux): what the test measures of the module's processes itself.

One home for the three readings the harness and the judge share: a file's text (empty once
the process is gone), the child processes of a process (every thread's), and the pid a
process has in its own pid namespace (the last of ``NSpid``, what ``os.getpid()`` says
there).
"""

from __future__ import annotations

import os


def read(path: str) -> str:
    """The text of a ``/proc`` file, or "" if it cannot be read (the process has ended)."""
    try:
        with open(path) as fh:
            return fh.read()
    except OSError:
        return ""


def task_children(proc: int | str, task: int | str) -> list[int]:
    """The child processes thread ``task`` of ``/proc/PROC`` started (empty once it ended)."""
    try:
        return [int(child) for child in read(f"/proc/{proc}/task/{task}/children").split()]
    except ValueError:
        return []


def children(proc: int | str) -> list[int]:
    """The pids of the child processes of ``/proc/PROC``, started by any of its threads."""
    try:
        tasks = os.listdir(f"/proc/{proc}/task")
    except OSError:
        return []
    return [child for task in tasks for child in task_children(proc, task)]


def inner_pid(proc: int | str) -> int | None:
    """The pid ``/proc/PROC`` has in its own pid namespace; None if it has ended."""
    for line in read(f"/proc/{proc}/status").splitlines():
        if line.startswith("NSpid:"):
            return int(line.split()[-1])
    return None
