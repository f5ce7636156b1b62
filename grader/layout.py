"""Where everything is: the one home of every path the grader uses.

Paths are computed once, here, from this file's place in the package; no other
module joins the pack's folders itself. ``PACK`` is the checkout (or the student
pack): the folder that holds ``grader/``, ``exercises/``, ``tests/`` and, for
instructors only, ``solutions/``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent  # grader/
PACK = PACKAGE.parent  # the checkout, or the student pack
STATE_DIR_NAME = ".grader"  # a student's working state, in the pack


@dataclass(frozen=True)
class Pack:
    """The folders of a pack at ``root``: this checkout, a student pack, or a copy of either."""

    root: Path

    @property
    def exercises(self) -> Path:
        """The stubs students edit (or a submission laid out the same way)."""
        return self.root / "exercises"

    @property
    def solutions(self) -> Path:
        """Reference solutions (instructors only)."""
        return self.root / "solutions"

    @property
    def tests(self) -> Path:
        """The visible tests."""
        return self.root / "tests"

    @property
    def package(self) -> Path:
        return self.root / "grader"

    @property
    def pristine_stubs(self) -> Path:
        """Pristine copies of the stubs, for ``grader reset`` (in a student pack only)."""
        return self.package / "stubs"

    @property
    def state(self) -> Path:
        """A student's working state: runs and hints remembered between commands."""
        return self.root / STATE_DIR_NAME


HERE = Pack(PACK)
EXERCISES = HERE.exercises
SOLUTIONS = HERE.solutions
TESTS = HERE.tests
DOCS = PACK / "docs"
README = PACK / "README.md"
CONTRACTS_TABLE = DOCS / "contracts.md"

# inside the package
CATALOGUE = PACKAGE / "catalogue.toml"
HIDDEN = PACKAGE / "hidden"  # hidden tests (instructors only)
SELFTESTS = PACKAGE / "selftests"  # the pack's own tests and their data
MUTANTS = SELFTESTS / "mutants"
ALTERNATIVES = SELFTESTS / "alternatives"
HOSTILE = SELFTESTS / "hostile"
HOSTILE_CLASSES = SELFTESTS / "hostile_classes"
RELEASE_TEMPLATES = PACKAGE / "release" / "templates"
PRISTINE_STUBS = HERE.pristine_stubs

# what an instructor never hands out: the folders that hold answers
SECRET_FOLDERS = (HIDDEN, SELFTESTS)
