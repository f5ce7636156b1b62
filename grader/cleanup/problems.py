"""What a cleanup could not remove: counted, a few examples kept, in plain words."""

from __future__ import annotations

import logging
from collections.abc import Callable

log = logging.getLogger("grader.cleanup")  # for the instructor, never shown to the student

MAX_PROBLEMS = 5  # examples kept in the report

Where = Callable[[], str]  # where a problem is: built only when one is reported


class Report:
    """The problems of one :func:`~grader.cleanup.tree.remove_tree`."""

    def __init__(self) -> None:
        self.count = 0
        self.examples: list[str] = []

    def add(self, where: Where, what: str) -> None:
        self.count += 1
        if len(self.examples) < MAX_PROBLEMS:
            self.examples.append(f"{short(where())}: {what}")


def short(path: str, limit: int = 160) -> str:
    """``path`` cut in the middle if it is longer than ``limit`` (trees can be very deep)."""
    return path if len(path) <= limit else f"{path[: limit // 2]}…{path[-limit // 2 :]}"


def why(exc: BaseException) -> str:
    """An error in a few words."""
    if isinstance(exc, OSError):
        return exc.strerror or type(exc).__name__
    return f"{type(exc).__name__}: {exc}"[:200]
