"""Shared fixtures for the self-check."""

from __future__ import annotations

import pytest

from grader import catalogue as catalogue_mod
from grader.catalogue import Catalogue


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "pack: grades the pack's exercises end to end (slow)")
    config.addinivalue_line("markers", "serial: grades the whole pack; run alone, not in parallel")
    config.addinivalue_line("markers", "full: slow; only in the full matrix (tox -m full)")


@pytest.fixture(scope="session")
def cat() -> Catalogue:
    return catalogue_mod.load()
