"""Inside the child, after the launcher: the point of no return before student code runs.

The grader's pytest plugin collects the hidden tests while still privileged,
writes the plan, then calls :func:`enter_sandbox` (as root: become the sandbox
uid, one per concurrent run) or :func:`enter_user_sandbox` (not root: cover the
private folder and give up the user namespace's powers) before any student code
is loaded. Whatever the child still needs must be imported first: the caller
names it (``preload``), the sandbox knows nothing of the grader's modules.
"""

from __future__ import annotations

import importlib
import linecache
import os
from collections.abc import Iterable

from grader.sandbox.syscalls import (
    CLONE_NEWNS,
    CLONE_NEWUSER,
    cover,
    map_user,
    no_new_privileges,
    outer_ids,
    unshare,
)


def _preload(modules: Iterable[str]) -> None:
    """Import what the child still needs; forget cached source lines (the hidden tests')."""
    for name in modules:
        importlib.import_module(name)
    linecache.clearcache()


def enter_sandbox(uid: int, gid: int, preload: Iterable[str] = ()) -> None:
    """As root: become the sandbox uid for good, before any student code is loaded."""
    _preload(preload)
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    if os.getuid() != uid or os.geteuid() != uid:  # pragma: no cover
        raise RuntimeError("could not drop privileges")
    no_new_privileges()


def enter_user_sandbox(hide: str, preload: Iterable[str] = ()) -> None:
    """Not root: cover ``hide`` (the hidden tests' copy), then give up the namespace's powers.

    The launcher made this process root of a user namespace, to mount. A new
    user and mount namespace inside it takes those powers away and locks
    every mount made so far: student code can neither unmount the covers nor
    mount anything over them that would reveal what they hide.
    """
    _preload(preload)
    cover(hide)
    outer, here = outer_ids(), (os.getuid(), os.getgid())
    unshare(CLONE_NEWUSER | CLONE_NEWNS)
    map_user(*here, inside=outer)
    no_new_privileges()
