"""Shared fixtures for the self-check."""

from __future__ import annotations

import os
import sys

import pytest

from grader import catalogue as catalogue_mod
from grader.catalogue import Catalogue


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "pack: grades the pack's exercises end to end (slow)")
    config.addinivalue_line("markers", "serial: grades the whole pack; run alone, not in parallel")
    config.addinivalue_line("markers", "full: slow; only in the full matrix (tox -m full)")


# Set by .ci/run after `tox -m check` to the Python its `self` env ran on; a leg of the
# full matrix on that same Python (GRADER_MATRIX_LEG=1) then runs only what check left out
# (the `full` and `serial` tests) instead of running the rest a second time.
CHECKED_ON = "GRADER_SELF_CHECKED_ON"
MATRIX_LEG = "GRADER_MATRIX_LEG"


def already_checked() -> bool:
    """Whether `tox -m check` already ran this Python's check part in this CI run."""
    this = "{}.{}".format(*sys.version_info[:2])
    return os.environ.get(MATRIX_LEG) == "1" and os.environ.get(CHECKED_ON) == this


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not already_checked():
        return
    rest = ("full", "serial")
    done = [i for i in items if not any(i.get_closest_marker(m) for m in rest)]
    if done:
        config.hook.pytest_deselected(items=done)
        skip = set(done)
        items[:] = [i for i in items if i not in skip]


@pytest.fixture(scope="session")
def cat() -> Catalogue:
    return catalogue_mod.load()
