"""Atomic file writes: a reader, or the next run after a kill, never sees half a file.

The text goes to a hidden temporary file in the same folder (``.NAME.XXXX.tmp``),
is flushed to disk, then renamed over the target in one step (``os.replace``).
A kill between the two leaves only the hidden temporary file, which
:func:`sweep` removes on the next run.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

TMP_SUFFIX = ".tmp"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_MODE = 0o666 & ~_umask()  # what open() would give: mkstemp's 0600 is too strict for reports


def write_bytes(path: str | Path, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TMP_SUFFIX, dir=path.parent)
    try:
        with contextlib.suppress(OSError):
            os.fchmod(fd, _MODE)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_text(path: str | Path, text: str) -> None:
    """UTF-8; a lone surrogate that got this far is written as its backslash escape."""
    write_bytes(path, text.encode("utf-8", "backslashreplace"))


def sweep(folder: str | Path) -> int:
    """Remove temporary files a killed run left in ``folder`` and its sub-folders."""
    removed = 0
    for tmp in Path(folder).rglob(f".*{TMP_SUFFIX}"):
        with contextlib.suppress(OSError):
            tmp.unlink()
            removed += 1
    return removed
