"""``grader reset``: put back an exercise's original stub, keeping the student's version.

The student's file is first copied to ``.grader/backups/STEM.DATE-TIME.py`` (never
overwriting an earlier backup), and the exercise's remembered run is forgotten,
so ``grader status`` shows it as not started again.
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

from grader import layout
from grader.catalogue import Exercise
from grader.student import state


def backup(root: Path, ex: Exercise, target: Path) -> Path:
    """Copy ``target`` to a new file in ``.grader/backups/``; return its path."""
    backups = state.state_dir(root) / "backups"
    backups.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path, n = backups / f"{ex.stem}.{stamp}.py", 1
    while path.exists():
        n += 1
        path = backups / f"{ex.stem}.{stamp}-{n}.py"
    shutil.copy2(target, path)
    return path


def reset(root: Path, ex: Exercise) -> int:
    """Restore the original stub of ``ex`` in ``root``; return the exit code (2: no stubs)."""
    pristine = state.STUBS_DIR / ex.module_file
    if not pristine.is_file():
        print(
            "grader: no original stubs here: `reset` works in the student pack "
            "(made by `grader release`)",
            file=sys.stderr,
        )
        return 2
    target = layout.Pack(root).exercises / ex.module_file
    if state.file_hash(target) == state.file_hash(pristine):
        print(f"exercises/{ex.module_file} is already the original stub; nothing to do.")
        return 0
    if target.exists():
        saved = backup(root, ex, target)
        print(f"Your version is saved as {saved.relative_to(root).as_posix()}")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(pristine, target)
    state.forget(root, ex.slug)
    print(f"exercises/{ex.module_file} is the original stub again.")
    return 0
