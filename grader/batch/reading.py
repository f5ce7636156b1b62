"""What reading a submission shares, folder or zip: its bounds, and where its exercises are.

A folder walk or a zip listing counts every entry and name against
:class:`InputBounds` (a zip bomb or a stray data folder is refused), every path
must stay inside its root (:func:`check_rel`), and the exercise root is the
shallowest folder holding exercise modules (:func:`choose_root`). Anything odd
raises :class:`SubmissionError` with a plain reason.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath

from grader.batch.inputs import printable
from grader.catalogue import Catalogue

SKIP_DIRS = {"__pycache__", "node_modules", "site-packages", "venv", "env"}


@dataclass(frozen=True)
class InputBounds:
    """What one submission may hold (a zip bomb or a stray data folder is refused)."""

    max_entries: int = 10_000  # entries a folder walk visits, or a zip lists
    max_names_bytes: int = 2 * 2**20  # their names together (a zip: its central directory)
    max_file_bytes: int = 1 * 2**20  # one exercise file, once decompressed
    max_total_bytes: int = 16 * 2**20  # all exercise files together
    max_archive_bytes: int = 64 * 2**20
    max_depth: int = 4  # how deep a repo's exercises/ may be


DEFAULT_BOUNDS = InputBounds()


class SubmissionError(Exception):
    """The submission cannot be graded; the message goes in the student's row."""


def module_names(cat: Catalogue) -> set[str]:
    return {ex.module_file for ex in cat}


def choose_root(dirs_with_modules: Iterable[PurePosixPath]) -> PurePosixPath | None:
    """The shallowest folder holding exercise modules (an ``exercises/`` one wins a tie)."""
    ranked = sorted(dirs_with_modules, key=lambda d: (len(d.parts), d.name != "exercises", str(d)))
    return ranked[0] if ranked else None


def no_exercises(cat: Catalogue) -> SubmissionError:
    example = next(iter(cat)).module_file
    return SubmissionError(
        f"no exercise files found (expected files such as {example}, "
        "directly or in an exercises/ folder)"
    )


def check_rel(name: str) -> PurePosixPath:
    """``name`` as a relative path that stays inside its folder, else :class:`SubmissionError`."""
    rel = PurePosixPath(name.replace("\\", "/"))
    if rel.is_absolute() or ".." in rel.parts or re.match(r"^[A-Za-z]:", name) or "\0" in name:
        raise SubmissionError(f"unsafe path in the submission: {printable(repr(name))}")
    return rel


def wanted(rel: PurePosixPath) -> bool:
    return not any(p.startswith(".") or p in SKIP_DIRS for p in rel.parts) and rel.suffix != ".pyc"


class Budget:
    """Counts what is listed and what is read against :class:`InputBounds`."""

    def __init__(self, bounds: InputBounds) -> None:
        self.bounds, self.entries, self.names, self.bytes = bounds, 0, 0, 0

    def listed(self, name: str) -> None:
        lim = self.bounds
        self.entries += 1
        self.names += len(os.fsencode(name))
        if self.entries > lim.max_entries:
            raise SubmissionError(f"too many files and folders (more than {lim.max_entries})")
        if self.names > lim.max_names_bytes:
            why = f"the file names are too long together (limit {lim.max_names_bytes} B)"
            raise SubmissionError(why)

    def take(self, name: str, size: int) -> None:
        lim = self.bounds
        self.bytes += size
        if size > lim.max_file_bytes:
            raise SubmissionError(f"{name} is too large ({size} bytes; limit {lim.max_file_bytes})")
        if self.bytes > lim.max_total_bytes:
            raise SubmissionError(f"the submission is too large (limit {lim.max_total_bytes} B)")
