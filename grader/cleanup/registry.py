"""The folders in use, removed by :func:`remove_pending` if a worker is stopped mid-grading."""

from __future__ import annotations

import os
from collections.abc import Iterable

from grader.cleanup.tree import remove_tree

_PENDING: dict[str, tuple[str, ...]] = {}  # folders in use: removed if the process is stopped


def pending(path: str | os.PathLike, *, first: Iterable[str | os.PathLike] = ()) -> None:
    """Note a folder in use, for :func:`remove_pending` should the process be stopped."""
    _PENDING[os.fspath(path)] = tuple(os.fspath(f) for f in first)


def done(path: str | os.PathLike) -> None:
    """The folder is removed (or handed on): no longer pending."""
    _PENDING.pop(os.fspath(path), None)


def remove_pending() -> list[str]:
    """Remove every folder still in use (a worker stopped mid-grading, e.g. by SIGTERM)."""
    problems = []
    for path, first in list(_PENDING.items()):
        problems += remove_tree(path, first=first)
        done(path)
    return problems
