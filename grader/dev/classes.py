"""Build a made-up class folder for ``grader batch``: the batch tests' and benchmark's input.

Each submission mixes reference solutions, untouched stubs and catalogued mutants,
in every layout the batch accepts (a plain folder, a whole repo, a ``.zip``), from
a seed, so the same class is built every time.
"""

from __future__ import annotations

import random
import zipfile
from pathlib import Path

from grader import catalogue as catalogue_mod
from grader import layout
from grader.dev.mutation import mutants_of

#: Two quick exercises: late_binding (correctness, timing and stress), concepts (correctness).
DEFAULT_SLUGS = ("late_binding", "concepts")


def source(slug: str, kind: str, rng: random.Random) -> str:
    """The text of ``slug``'s module: the ``solution``, the ``stub``, or a random mutant."""
    ex = catalogue_mod.load().get(slug)
    reference = (layout.SOLUTIONS / ex.module_file).read_text(encoding="utf-8")
    if kind == "solution":
        return reference
    if kind == "stub":
        return (layout.EXERCISES / ex.module_file).read_text(encoding="utf-8")
    mutants = mutants_of(ex)
    return rng.choice(mutants).source(reference) if mutants else reference


def write_tree(folder: Path, files: dict[str, str]) -> None:
    """Write ``files`` (relative path → text) under ``folder``."""
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def make_class(
    dest: Path, n: int, slugs: tuple[str, ...] = DEFAULT_SLUGS, seed: int = 7
) -> dict[str, str]:
    """``n`` submissions mixing solutions, stubs and mutants, in every accepted layout.

    Returns {student: kind}. Layouts cycle through a plain folder, a whole repo
    (``repo/exercises/``), and a ``.zip``.
    """
    cat = catalogue_mod.load()
    rng = random.Random(seed)
    dest.mkdir(parents=True, exist_ok=True)
    kinds = {}
    plan = ["solution", "stub", "mutant", "mixed"]
    for i in range(n):
        student = f"s{i:03d}"
        kind = plan[i % len(plan)]
        files = {}
        for slug in slugs:
            k = rng.choice(["solution", "stub", "mutant"]) if kind == "mixed" else kind
            files[cat.get(slug).module_file] = source(slug, k, rng)
        shape = ("folder", "repo", "zip")[i % 3]
        if shape == "folder":
            write_tree(dest / student, files)
        elif shape == "repo":
            write_tree(
                dest / student,
                {"README.md": "my work\n", ".git/HEAD": "ref: x\n"}
                | {f"exercises/{k}": v for k, v in files.items()},
            )
        else:
            with zipfile.ZipFile(dest / f"{student}.zip", "w") as zf:
                for name, text in files.items():
                    zf.writestr(f"{student}-main/exercises/{name}", text)
        kinds[student] = f"{kind}/{shape}"
    return kinds
