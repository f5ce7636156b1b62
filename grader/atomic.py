"""Atomic file writes: a reader, or the next run after a kill, never sees half a file.

The data goes to a hidden temporary file in the same folder (``.NAME.XXXX.tmp``),
is flushed to disk, then renamed over the target in one step (``os.replace``).
A kill between the two leaves only the hidden temporary file, which
:func:`sweep` removes on the next run. Every atomic write of the grader goes
through this module: reports, class files, the Gradescope zip, nbgrader
submissions, the student's reports.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

TMP_SUFFIX = ".tmp"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_MODE = 0o666 & ~_umask()  # what open() would give: mkstemp's 0600 is too strict for reports


@contextlib.contextmanager
def writing(path: str | Path, mode: int | None = None) -> Iterator[BinaryIO]:
    """A binary file that becomes ``path`` when the block ends, or nothing if it raises."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TMP_SUFFIX, dir=path.parent)
    try:
        with contextlib.suppress(OSError):
            os.fchmod(fd, _MODE if mode is None else mode)
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_bytes(path: str | Path, data: bytes) -> None:
    with writing(path) as fh:
        fh.write(data)


def write_text(path: str | Path, text: str) -> None:
    """UTF-8; a lone surrogate that got this far is written as its backslash escape."""
    write_bytes(path, text.encode("utf-8", "backslashreplace"))


def write_text_at(folder: int, name: str, text: str, mode: int = 0o644) -> None:
    """Write ``name`` in the folder open as ``folder`` (a dir fd), never through a link.

    For folders that untrusted code can write into: the temporary file is
    created exclusively and without following links, relative to the folder's
    descriptor, so no path component can be swapped in between.
    """
    tmp = f".{name}.{os.getpid()}{TMP_SUFFIX}"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(tmp, flags, mode, dir_fd=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(text.encode("utf-8", "backslashreplace"))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, name, src_dir_fd=folder, dst_dir_fd=folder)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp, dir_fd=folder)
        raise


def sweep(folder: str | Path) -> int:
    """Remove temporary files a killed run left in ``folder`` and its sub-folders."""
    removed = 0
    for tmp in Path(folder).rglob(f".*{TMP_SUFFIX}"):
        with contextlib.suppress(OSError):
            tmp.unlink()
            removed += 1
    return removed
