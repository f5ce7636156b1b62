"""Run a command as an unprivileged user, as an instructor without root would (self-check only).

CI runs as root, and its interpreters often live under a folder others cannot
enter (``/root/.pyenv``). The child gets a mount namespace of its own in
which such folders are covered by an empty one that holds only what it needs
(the sandbox's own mount pieces, :mod:`grader.sandbox.mounts`), then becomes
``nobody``. What it then does with namespaces is exactly what a normal user
could do.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from grader.sandbox.launcher import overmount
from grader.sandbox.mounts import closed_ancestors, needed_paths
from grader.sandbox.syscalls import CLONE_NEWNS, MS_PRIVATE, MS_REC, mount, unshare

NOBODY = 65534


def _reachable(paths: set[Path]) -> None:
    """In the child (still root): make ``paths`` reachable for other users."""
    unshare(CLONE_NEWNS)
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    covers = closed_ancestors(paths)
    for target in sorted(covers, key=lambda p: len(p.parts)):
        keep = sorted(str(p) for p in covers[target] if p != target)
        overmount(str(target), keep, writable=False, tmp_mb=1)


def run_as_nobody(
    cmd: list[str], *, needed: set[Path], env: dict[str, str], cwd: Path, timeout: float
) -> subprocess.CompletedProcess:
    """``cmd`` as ``nobody``, with ``needed`` (and the interpreter) reachable."""
    paths = {p.resolve() for p in needed} | needed_paths(cmd[0])

    def become_nobody() -> None:  # pragma: no cover - runs between fork and exec
        _reachable(paths)
        os.setgroups([])
        os.setresgid(NOBODY, NOBODY, NOBODY)
        os.setresuid(NOBODY, NOBODY, NOBODY)

    return subprocess.run(
        cmd, env=env, cwd=cwd, preexec_fn=become_nobody, capture_output=True, text=True,
        timeout=timeout, check=False,
    )  # fmt: skip


@contextlib.contextmanager
def nobody_home() -> Iterator[tuple[Path, dict[str, str]]]:
    """A private home folder for ``nobody``, and a minimal environment that uses it."""
    home = Path(tempfile.mkdtemp(prefix="grader-nobody-"))
    try:
        os.chmod(home, 0o700)
        os.chown(home, NOBODY, NOBODY)
        yield home, {"PATH": "/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8",
                     "PYTHONDONTWRITEBYTECODE": "1"}  # fmt: skip
    finally:
        shutil.rmtree(home, ignore_errors=True)


def readable_by_others(path: Path) -> bool:
    """Whether other users can read ``path`` (a checkout made under umask 077 cannot be)."""
    return bool(path.stat().st_mode & 0o004)
