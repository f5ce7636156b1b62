"""Remove one folder (or file, or symlink) and everything below it; never raise.

What must not survive (``first``: the hidden tests' copy) is removed first and,
should a file of it resist, emptied. Anything mounted below is detached first
(as root), then the tree is walked (:mod:`grader.cleanup.walk`), again should a
walk be interrupted by a folder moved under it.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

from grader.cleanup.mounts import unmount_below
from grader.cleanup.problems import Report, log, why
from grader.cleanup.walk import DIR_FLAGS, remove_dir, unlink

_MAX_PASSES = 3  # whole walks, should one be interrupted (a folder moved under it)


def remove_tree(path: str | os.PathLike, *, first: Iterable[str | os.PathLike] = ()) -> list[str]:
    """Remove ``path`` and everything below it; never raises.

    ``first``: paths (usually inside ``path``) removed before the rest, and
    emptied if they cannot be removed. Returns what could not be removed, in
    plain words (an empty list when everything is gone), and logs it.
    """
    report = Report()
    for target in [*first, path]:
        try:
            _remove(Path(target), report, wipe=target is not path)
        except Exception as exc:  # a cleanup must never stop the grading
            report.add(lambda t=target: str(t), f"could not be removed ({why(exc)})")
    if not report.count:
        return []
    problems = [
        f"the grader could not remove {report.count} item(s) of its temporary folder {path}",
        *report.examples,
    ]
    log.warning("%s", "; ".join(problems))
    return problems


def _remove(path: Path, report: Report, *, wipe: bool) -> None:
    try:
        parent = os.open(path.parent, DIR_FLAGS & ~os.O_NOFOLLOW)  # the grader's own folder
    except FileNotFoundError:
        return
    try:
        if os.geteuid() == 0:
            unmount_below(path, report)
        for _ in range(_MAX_PASSES):
            try:
                st = os.stat(path.name, dir_fd=parent, follow_symlinks=False)
            except FileNotFoundError:
                return
            if not stat.S_ISDIR(st.st_mode):
                unlink(parent, path.name, lambda: str(path), report, wipe)
                return
            if remove_dir(parent, path.name, st, str(path), report, wipe):
                return
    finally:
        os.close(parent)
