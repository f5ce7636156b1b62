"""Read a submission folder's exercise modules, never following a link.

The walk is iterative and bounded (:class:`~grader.batch.reading.InputBounds`: at most
``max_entries`` entries, no depth beyond ``max_depth``, no recursion), skips hidden
folders, caches and virtual environments, and opens only regular files, through
descriptors (``O_NOFOLLOW``), so a link swapped in mid-walk is never followed.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path, PurePosixPath

from grader.batch.reading import (
    DEFAULT_BOUNDS,
    SKIP_DIRS,
    Budget,
    InputBounds,
    SubmissionError,
    choose_root,
    module_names,
    no_exercises,
)
from grader.catalogue import Catalogue

_OPEN = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_OPEN_DIR = _OPEN | os.O_DIRECTORY


def _open_dir(top: int, parts: tuple[str, ...]) -> int:
    """A new descriptor of ``top/parts``, no link followed on the way."""
    fd = os.open(".", _OPEN_DIR, dir_fd=top)
    for part in parts:
        try:
            nxt = os.open(part, _OPEN_DIR, dir_fd=fd)
        finally:
            os.close(fd)
        fd = nxt
    return fd


def _module_dirs(top: int, modules: set[str], bounds: InputBounds, budget: Budget) -> list:
    """Folders (as parts) down to ``max_depth`` that hold a module as a regular file.

    Iterative, so a deep tree cannot exhaust the stack; hidden folders, caches and
    virtual environments are not entered; every entry listed counts against the budget.
    """
    found = []
    stack: list[tuple[str, ...]] = [()]
    while stack:
        parts = stack.pop()
        fd = _open_dir(top, parts)
        subdirs, has_module, venv = [], False, False
        try:
            with os.scandir(fd) as it:
                for entry in it:
                    budget.listed(entry.name)
                    name = entry.name
                    if entry.is_dir(follow_symlinks=False):
                        if not name.startswith(".") and name not in SKIP_DIRS:
                            subdirs.append(name)
                    elif name in modules and entry.is_file(follow_symlinks=False):
                        has_module = True
                    elif name == "pyvenv.cfg":
                        venv = True
        finally:
            os.close(fd)
        if venv and parts:
            continue
        if has_module:
            found.append(PurePosixPath(*parts))
        if len(parts) < bounds.max_depth:
            stack.extend((*parts, d) for d in sorted(subdirs, reverse=True))
    return found


def _read_regular(fd: int, name: str, bounds: InputBounds, budget: Budget) -> bytes | None:
    """The bytes of the regular file ``name`` in folder ``fd`` (None: not a regular file)."""
    try:
        st = os.stat(name, dir_fd=fd, follow_symlinks=False)
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(st.st_mode):  # links, pipes, devices: never opened
        return None
    budget.take(name, st.st_size)
    file_fd = os.open(name, _OPEN, dir_fd=fd)
    with os.fdopen(file_fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(file_fd).st_mode):
            return None
        data = fh.read(bounds.max_file_bytes + 1)
    if len(data) > bounds.max_file_bytes:
        raise SubmissionError(f"{name} is too large (limit {bounds.max_file_bytes} bytes)")
    return data


def read_folder(
    folder: Path, cat: Catalogue, bounds: InputBounds = DEFAULT_BOUNDS
) -> dict[str, bytes]:
    """The exercise modules at the folder's exercise root, by name (no link followed)."""
    modules = module_names(cat)
    budget = Budget(bounds)
    try:
        top = os.open(folder, _OPEN_DIR)
    except OSError as exc:
        raise SubmissionError(f"cannot open the folder ({exc.strerror})") from None
    try:
        root = choose_root(_module_dirs(top, modules, bounds, budget))
        if root is None:
            raise no_exercises(cat)
        fd = _open_dir(top, root.parts)
        try:
            files = {}
            for name in sorted(modules):
                data = _read_regular(fd, name, bounds, budget)
                if data is not None:
                    files[name] = data
        finally:
            os.close(fd)
    except OSError as exc:
        raise SubmissionError(f"cannot read the folder ({exc.strerror or exc})") from None
    finally:
        os.close(top)
    return files
