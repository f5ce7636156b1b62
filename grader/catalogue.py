"""The catalogue: one TOML file that lists every exercise, in order.

Everything that needs the list of exercises (fixtures, the CLI, scoring,
reports, the self-check) reads it from here, so adding an exercise is one entry
in ``catalogue.toml`` plus its mirrored files.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from grader import layout

CATALOGUE_PATH = layout.CATALOGUE
CATEGORIES = ("correctness", "timing", "stress")
#: Settings every catalogue states (the sandbox's ``limit_*`` values are checked by the sandbox).
REQUIRED_DEFAULTS = (
    "test_timeout",
    "exercise_timeout",
    "output_limit",
    "isolate",
    "uid_base",
    "uid_count",
)


class CatalogueError(ValueError):
    """The catalogue file is malformed."""


@dataclass(frozen=True)
class Exercise:
    """One exercise as the catalogue describes it."""

    slug: str
    order: int
    title: str
    teaches: str
    points: dict[str, float]
    hints: tuple[str, ...]
    test_timeout: float
    exercise_timeout: float

    @property
    def stem(self) -> str:
        """File stem shared by the stub, the solution and the mutant catalogue."""
        return f"{self.order:02d}_{self.slug}"

    @property
    def module_file(self) -> str:
        return f"{self.stem}.py"

    @property
    def test_file(self) -> str:
        """Name of both the visible and the hidden test file."""
        return f"test_{self.stem}.py"

    @property
    def max_points(self) -> float:
        return sum(self.points.values())


@dataclass(frozen=True)
class Catalogue:
    exercises: tuple[Exercise, ...]
    output_limit: int
    # Isolation of graded code (grader/sandbox/config.py): ``isolate``, ``uid_base``,
    # ``uid_count`` and ``limits`` (the ``limit_*`` keys of [defaults], prefix removed).
    sandbox: dict = field(default_factory=dict, compare=False)

    def __iter__(self):
        return iter(self.exercises)

    def __len__(self) -> int:
        return len(self.exercises)

    def get(self, slug: str) -> Exercise:
        """The exercise named ``slug``, or by its file's name (``01_wait_for_all``, ``.py`` too)."""
        for ex in self.exercises:
            if slug in (ex.slug, ex.stem, ex.module_file):
                return ex
        known = ", ".join(e.slug for e in self.exercises)
        raise KeyError(f"no exercise {slug!r} in the catalogue (known: {known})")

    def by_test_file(self, filename: str) -> Exercise | None:
        """The exercise whose visible or hidden test file is ``filename``."""
        name = Path(filename).name
        return next((e for e in self.exercises if e.test_file == name), None)


def parse(data: dict) -> Catalogue:
    """Build a :class:`Catalogue` from the TOML data, validating as it goes."""
    defaults = data.get("defaults", {})
    missing = [k for k in REQUIRED_DEFAULTS if k not in defaults]
    if missing:
        raise CatalogueError(f"[defaults] lacks {missing}: the catalogue is their one home")
    exercises = []
    for raw in data.get("exercise", []):
        try:
            points = {c: float(raw["points"].get(c, 0)) for c in CATEGORIES}
            unknown = set(raw["points"]) - set(CATEGORIES)
            if unknown:
                raise CatalogueError(f"{raw['slug']}: unknown categories {sorted(unknown)}")
            exercises.append(
                Exercise(
                    slug=raw["slug"],
                    order=int(raw["order"]),
                    title=raw["title"],
                    teaches=raw["teaches"],
                    points=points,
                    hints=tuple(raw.get("hints", ())),
                    test_timeout=float(raw.get("test_timeout", defaults["test_timeout"])),
                    exercise_timeout=float(
                        raw.get("exercise_timeout", defaults["exercise_timeout"])
                    ),
                )
            )
        except KeyError as missing:
            raise CatalogueError(f"exercise entry {raw!r} lacks {missing}") from None
    orders = [e.order for e in exercises]
    if orders != list(range(1, len(exercises) + 1)):
        raise CatalogueError(f"list the exercises in their order, 1, 2, 3, ...: found {orders}")
    sandbox = {k: defaults[k] for k in ("isolate", "uid_base", "uid_count") if k in defaults}
    sandbox["limits"] = {
        k.removeprefix("limit_"): int(v) for k, v in defaults.items() if k.startswith("limit_")
    }
    return Catalogue(tuple(exercises), output_limit=int(defaults["output_limit"]), sandbox=sandbox)


@cache
def load(path: Path = CATALOGUE_PATH) -> Catalogue:
    """Read and validate the catalogue (cached: it does not change during a run)."""
    with open(path, "rb") as fh:
        return parse(tomllib.load(fh))
