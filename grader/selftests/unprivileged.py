"""Run a command as an unprivileged user, as an instructor without root would (self-check only).

CI runs as root, and its interpreters often live under a folder others cannot
enter (``/root/.pyenv``). The child gets a mount namespace of its own in
which such folders are covered by an empty one that holds only what it needs
(the sandbox's own :func:`grader.sandbox.mount_plan` pieces), then becomes
``nobody``. What it then does with namespaces is exactly what a normal user
could do.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from grader import sandbox

NOBODY = 65534


def _reachable(paths: set[Path]) -> None:
    """In the child (still root): make ``paths`` reachable for other users."""
    sandbox._unshare(sandbox.CLONE_NEWNS)
    sandbox._mount(None, "/", None, sandbox.MS_REC | sandbox.MS_PRIVATE)
    covers = sandbox.closed_ancestors(paths)
    for target in sorted(covers, key=lambda p: len(p.parts)):
        keep = sorted(str(p) for p in covers[target] if p != target)
        sandbox._overmount(str(target), keep, writable=False, tmp_mb=1)


def run_as_nobody(
    cmd: list[str], *, needed: set[Path], env: dict[str, str], cwd: Path, timeout: float
) -> subprocess.CompletedProcess:
    """``cmd`` as ``nobody``, with ``needed`` (and the interpreter) reachable."""
    paths = {p.resolve() for p in needed} | sandbox.needed_paths(cmd[0])

    def become_nobody() -> None:  # pragma: no cover - runs between fork and exec
        _reachable(paths)
        os.setgroups([])
        os.setresgid(NOBODY, NOBODY, NOBODY)
        os.setresuid(NOBODY, NOBODY, NOBODY)

    return subprocess.run(
        cmd, env=env, cwd=cwd, preexec_fn=become_nobody, capture_output=True, text=True,
        timeout=timeout, check=False,
    )  # fmt: skip
