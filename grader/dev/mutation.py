"""Build mutant submissions from the catalogued mutants of each exercise.

``grader/selftests/mutants/NN_slug.toml`` lists wrong variants of
``solutions/NN_slug.py``. Each mutant is the reference with text replaced
(``[[mutant.replace]]`` with ``old``/``new``; every ``old`` must occur exactly
once, so a changed reference breaks the mutant loudly instead of silently
making it correct) and/or code appended (``append``, later definitions
override earlier ones). ``loses`` names the categories in which the mutant
must score below the maximum, and ``diagnosis`` a phrase its feedback must
contain (case-insensitive), so that the feedback names the problem.
"""

from __future__ import annotations

import shutil
import tomllib
from dataclasses import dataclass
from pathlib import Path

from grader import layout
from grader.catalogue import Exercise

MUTANTS_DIR = layout.MUTANTS


@dataclass(frozen=True)
class Mutant:
    exercise: Exercise
    name: str
    description: str
    loses: tuple[str, ...]
    diagnosis: str
    replacements: tuple[tuple[str, str], ...]
    append: str

    @property
    def id(self) -> str:
        return f"{self.exercise.slug}:{self.name}"

    def source(self, reference: str) -> str:
        """The mutant's module text, derived from the reference solution's text."""
        text = reference
        for old, new in self.replacements:
            found = text.count(old)
            if found != 1:
                raise ValueError(f"mutant {self.id}: {old!r} occurs {found} times, not once")
            text = text.replace(old, new)
        if self.append:
            text += "\n\n# --- mutant override ---\n" + self.append
        if text == reference:
            raise ValueError(f"mutant {self.id} changes nothing")
        return text

    def build(self, solutions: Path, out: Path) -> Path:
        """Write a one-exercise submission folder holding this mutant; return it."""
        out.mkdir(parents=True, exist_ok=True)
        reference = (solutions / self.exercise.module_file).read_text(encoding="utf-8")
        (out / self.exercise.module_file).write_text(self.source(reference), encoding="utf-8")
        return out


def mutants_file(exercise: Exercise, directory: Path = MUTANTS_DIR) -> dict:
    """The parsed ``NN_slug.toml`` of ``exercise`` (mutants and contract clauses), or ``{}``."""
    path = directory / f"{exercise.stem}.toml"
    if not path.exists():
        return {}
    with open(path, "rb") as fh:
        return tomllib.load(fh)


def mutants_of(exercise: Exercise, directory: Path = MUTANTS_DIR) -> list[Mutant]:
    data = mutants_file(exercise, directory)
    return [
        Mutant(
            exercise=exercise,
            name=raw["name"],
            description=raw["description"],
            loses=tuple(raw["loses"]),
            diagnosis=raw["diagnosis"],
            replacements=tuple((r["old"], r["new"]) for r in raw.get("replace", ())),
            append=raw.get("append", ""),
        )
        for raw in data.get("mutant", [])
    ]


def copy_submission(src: Path, dst: Path) -> Path:
    """A fresh copy of a submission folder (mutants and alternatives are built in copies)."""
    shutil.copytree(src, dst, dirs_exist_ok=True)
    return dst
