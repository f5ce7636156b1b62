"""The sandbox settings of a grading, from the catalogue's ``[defaults]`` (their one home)."""

from __future__ import annotations

from grader import catalogue as catalogue_mod
from grader.catalogue import Catalogue
from grader.sandbox.config import Isolation


def isolation(cat: Catalogue | None = None, **overrides: object) -> Isolation:
    """The catalogue's isolation settings; ``overrides`` set ``enabled`` or a limit by name."""
    cat = catalogue_mod.load() if cat is None else cat
    return Isolation.from_settings(cat.sandbox, **overrides)
