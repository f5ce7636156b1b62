"""``grader dev check``: the pack's self-check for one exercise or all (like rustlings' dev check).

For each exercise it verifies that the stub fails its visible tests and scores
0 for timing and stress, that the reference passes its visible tests and gets
full marks, that every contract clause names a hidden test and a mutant, that
every alternative correct solution gets full marks, and that every catalogued
mutant loses points in its categories with the promised diagnosis and fails a
listed test of each contract clause it breaks. The pytest self-check
(``grader/selftests/test_pack.py``) runs the same functions, one test each.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from grader import layout
from grader.catalogue import Catalogue, Exercise
from grader.dev.contracts import clauses_of, unshown
from grader.dev.contracts import problems as clause_problems
from grader.dev.mutation import Mutant, mutants_of
from grader.grading.command import recorded_test_command
from grader.grading.scoring import grade
from grader.records import read_records
from grader.results import ExerciseScore
from grader.sandbox.config import base_env

ROOT = layout.PACK
ALTERNATIVES_DIR = layout.ALTERNATIVES
# A visible test that skips because this machine cannot measure it (e.g. too
# busy to classify a CPU-bound probe) is neither a pass nor a failure.
FAILING = ("failed", "error")


@dataclass
class Finding:
    exercise: str
    check: str
    ok: bool
    detail: str = ""


def visible_outcomes(exercise: Exercise, impl: Path, root: Path = ROOT) -> dict[str, str]:
    """Run the visible tests of ``exercise`` against ``impl``: nodeid → outcome."""
    with tempfile.TemporaryDirectory() as tmp:
        results = Path(tmp) / "r.jsonl"
        cmd = recorded_test_command(layout.Pack(root).tests / exercise.test_file, impl, results)
        subprocess.run(cmd, cwd=root, env=base_env(), capture_output=True, timeout=300, check=False)
        return {r["nodeid"]: r["outcome"] for r in read_records(results) if r["event"] == "result"}


def grade_one(
    exercise: Exercise, submission: Path, cat: Catalogue, seed: int | None = None
) -> ExerciseScore:
    return grade(submission, cat, only=[exercise.slug], seed=seed).exercises[0]


def full_marks(score: ExerciseScore) -> tuple[bool, str]:
    if score.error:
        return False, score.error
    missing = [f"[{r.info.category}] {r.info.title}: {r.diagnosis}" for r in score.failures()]
    ok = score.earned >= score.possible and not missing
    return ok, "; ".join(missing) or f"{score.earned:g}/{score.possible:g}"


def check_mutant(
    mutant: Mutant, cat: Catalogue, solutions: Path, seed: int | None = None
) -> tuple[bool, str]:
    """The mutant loses points in each of its categories and is diagnosed as promised.

    It must also fail at least one listed test of every contract clause that
    names it (see ``contracts.py``), so the table's mapping is real.
    """
    with tempfile.TemporaryDirectory(prefix=f"mutant-{mutant.name}-") as tmp:
        score = grade_one(mutant.exercise, mutant.build(solutions, Path(tmp)), cat, seed)
    problems = []
    failed = [r.info.nodeid for r in score.failures()]
    for clause in unshown(mutant.exercise, mutant.name, failed):
        problems.append(f"breaks clause {clause!r} but fails none of its tests")
    for category in mutant.loses:
        c = score.categories[category]
        if c.earned >= c.possible:
            problems.append(f"kept all {category} points")
    lost = [r for r in score.failures() if r.info.category in mutant.loses]
    if not any(mutant.diagnosis.lower() in r.diagnosis.lower() for r in lost):
        seen = "; ".join(sorted({r.diagnosis for r in lost})) or "none"
        problems.append(f"no diagnosis mentions {mutant.diagnosis!r} (got: {seen})")
    summary = ", ".join(
        f"{k} {v.earned:g}/{v.possible:g}" for k, v in score.categories.items() if v.possible
    )
    return not problems, "; ".join(problems) or summary


def alternatives_for(exercise: Exercise) -> Iterator[Path]:
    """Folders under ``alternatives/`` that hold a correct solution of ``exercise``."""
    for style in sorted(ALTERNATIVES_DIR.iterdir()) if ALTERNATIVES_DIR.exists() else []:
        if (style / exercise.module_file).exists():
            yield style


def check_stub_fails_visible(exercise: Exercise, root: Path = ROOT) -> Finding:
    outcomes = visible_outcomes(exercise, layout.Pack(root).exercises, root)
    failing = [n for n, o in outcomes.items() if o in FAILING]
    return Finding(exercise.slug, "stub fails its visible tests", bool(failing),
                   f"{len(failing)}/{len(outcomes)} failing")  # fmt: skip


def check_solution_passes_visible(exercise: Exercise, root: Path = ROOT) -> Finding:
    outcomes = visible_outcomes(exercise, layout.Pack(root).solutions, root)
    failing = [n for n, o in outcomes.items() if o in FAILING]
    return Finding(exercise.slug, "solution passes its visible tests",
                   bool(outcomes) and not failing,
                   ", ".join(failing) or f"{len(outcomes)} passed")  # fmt: skip


def check_stub_scores_zero(exercise: Exercise, cat: Catalogue, root: Path = ROOT) -> Finding:
    score = grade_one(exercise, layout.Pack(root).exercises, cat)
    kept = [k for k in ("timing", "stress") if score.categories[k].earned > 0]
    return Finding(exercise.slug, "stub scores 0 for timing and stress",
                   not kept and not score.error,
                   score.error or (f"kept points in {kept}" if kept else "0"))  # fmt: skip


def check_full_marks(exercise: Exercise, cat: Catalogue, submission: Path, label: str) -> Finding:
    ok, detail = full_marks(grade_one(exercise, submission, cat))
    return Finding(exercise.slug, f"{label} gets full marks", ok, detail)


def check_exercise(exercise: Exercise, cat: Catalogue, root: Path = ROOT) -> Iterator[Finding]:
    """Every check of one exercise, in the order a maintainer wants to read them."""
    yield check_stub_fails_visible(exercise, root)
    yield check_solution_passes_visible(exercise, root)
    yield check_stub_scores_zero(exercise, cat, root)
    yield check_full_marks(exercise, cat, layout.Pack(root).solutions, "solution")
    found = clause_problems(exercise)
    yield Finding(exercise.slug, "every contract clause has a test and a mutant", not found,
                  "; ".join(found) or f"{len(clauses_of(exercise))} clauses")  # fmt: skip
    for style in alternatives_for(exercise):
        yield check_full_marks(exercise, cat, style, f"alternative '{style.name}'")
    for mutant in mutants_of(exercise):
        ok, detail = check_mutant(mutant, cat, layout.Pack(root).solutions)
        yield Finding(exercise.slug, f"mutant '{mutant.name}' is caught", ok, detail)


def main(slugs: list[str], cat: Catalogue) -> int:
    from rich.console import Console
    from rich.text import Text

    console = Console()
    exercises = [cat.get(s) for s in slugs] if slugs else list(cat)
    bad = 0
    for ex in exercises:
        for f in check_exercise(ex, cat):
            bad += not f.ok
            line = Text("✓ " if f.ok else "✗ ", style="green" if f.ok else "red")
            line.append(f"{f.exercise}: {f.check}")
            line.append(f" ({f.detail})" if f.detail else "", style="dim")
            console.print(line)
    console.print(f"{'all checks passed' if not bad else f'{bad} check(s) failed'}")
    return 1 if bad else 0
