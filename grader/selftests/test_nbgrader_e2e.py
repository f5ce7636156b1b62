"""The nbgrader course end to end, with real nbgrader 0.9, a real kernel and the gradebook.

``grader nbgrader build`` → ``nbgrader generate_assignment`` → ``grader nbgrader
import`` (a class of ``.py`` submissions) → ``nbgrader autograde`` → ``nbgrader
export``; the scores in the gradebook (per exercise and category) and in the
CSV (per student) must equal ``grader grade``'s on the same code, with the same
race seed. Runs in the ``nbgrader`` tox env only (``GRADER_NBGRADER_E2E=1``), on
three fast exercises to keep it to a few minutes.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from grader import catalogue as catalogue_mod
from grader.cli import main
from grader.nbgrader_course import ASSIGNMENT, CODE_STUB, read_notebook
from grader.scoring import grade
from grader.selftests.mutation import mutants_of

E2E = os.environ.get("GRADER_NBGRADER_E2E") == "1"
pytestmark = pytest.mark.skipif(not E2E, reason="runs in the `nbgrader` tox env")

ROOT = Path(__file__).resolve().parents[2]
CAT = catalogue_mod.load()
SLUGS = ("wait_for_all", "amdahl", "concepts")
EXERCISES = [CAT.get(s) for s in SLUGS]
SEED = 20240607
MUTANTS = {  # one partial-credit mutant per exercise
    "wait_for_all": "exception_swallowed",
    "amdahl": "workers_needed_truncates",
    "concepts": "one_wrong_answer",
}
# max_speedup(0) (an int zero, as only the max_speedup test passes) never returns.
HANG = """

def max_speedup(serial_fraction):
    if serial_fraction == 0 and type(serial_fraction) is int:
        import threading
        threading.Event().wait()
    return _reference_max_speedup(serial_fraction)
"""
EXIT = "\nimport os\nos._exit(3)  # at import: the process dies\n"


def _nbgrader(course: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args],
        cwd=course, env=env, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    return proc


def _class(root: Path) -> Path:
    """reference, stub, mutants (one per exercise) and broken (a hang, an os._exit, a
    missing module)."""
    klass = root / "class"
    for student in ("reference", "stub", "mutants", "broken"):
        (klass / student).mkdir(parents=True)
    for ex in EXERCISES:
        solution = (ROOT / "solutions" / ex.module_file).read_text()
        (klass / "reference" / ex.module_file).write_text(solution)
        (klass / "stub" / ex.module_file).write_text(
            (ROOT / "exercises" / ex.module_file).read_text()
        )
        mutant = next(m for m in mutants_of(ex) if m.name == MUTANTS[ex.slug])
        (klass / "mutants" / ex.module_file).write_text(mutant.source(solution))
        broken = {  # no wait_for_all at all: nbgrader and grader grade both give 0
            "amdahl": solution + "\n_reference_max_speedup = max_speedup\n" + HANG,
            "concepts": solution + EXIT,
        }
        if ex.slug in broken:
            (klass / "broken" / ex.module_file).write_text(broken[ex.slug])
    return klass


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    pytest.importorskip("nbgrader", reason="needs the nbgrader extra")  # not silently: E2E set
    root = tmp_path_factory.mktemp("nbgrader")
    course = root / "course"
    env = dict(os.environ)
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
        env[name] = str(root / name.lower())
    env["GRADER_SEED"] = str(SEED)
    env.pop("PYTEST_ADDOPTS", None)
    assert main(["nbgrader", "build", str(course), "--only", ",".join(SLUGS)]) == 0
    assert main(["nbgrader", "check", str(course)]) == 0
    proc = _nbgrader(course, env, "generate_assignment", ASSIGNMENT, "--force")
    assert proc.returncode == 0, proc.stderr[-3000:]
    klass = _class(root)
    assert main(["nbgrader", "import", str(klass), str(course), ASSIGNMENT]) == 0
    # `grader grade` on the same code, meanwhile (its timing tests hold under load).
    with ThreadPoolExecutor(1) as pool:
        graded = pool.submit(
            lambda: {s.name: grade(s, CAT, only=SLUGS, seed=SEED) for s in sorted(klass.iterdir())}
        )
        autograde = _nbgrader(course, env, "autograde", ASSIGNMENT, "--create")
        export = _nbgrader(course, env, "export")
        # The instructor's notebook, run as students run theirs (code in the kernel).
        validate = _nbgrader(course, env, "validate", f"source/{ASSIGNMENT}/16_concepts.ipynb")
    return {"dir": course, "class": klass, "autograde": autograde, "export": export,
            "validate": validate, "graded": graded.result()}  # fmt: skip


def _gradebook(course: Path) -> dict[tuple[str, str, str], tuple[float, float]]:
    from nbgrader.api import Gradebook

    scores = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for student in gb.students:
            sub = gb.find_submission(ASSIGNMENT, student.id)
            for nb in sub.notebooks:
                for g in nb.grades:
                    scores[(student.id, nb.name, g.name)] = (g.score, g.max_score)
    return scores


@pytest.fixture(scope="module")
def by_grader(course):
    return course["graded"]


def test_autograde_and_export_succeed(course):
    assert course["autograde"].returncode == 0, course["autograde"].stderr[-3000:]
    assert course["export"].returncode == 0, course["export"].stderr[-3000:]


def test_gradebook_equals_grader_grade_exercise_by_exercise(course, by_grader):
    book = _gradebook(course["dir"])
    mismatches = []
    for student, report in by_grader.items():
        for es in report.exercises:
            for category, cs in es.categories.items():
                points = es.exercise.points[category]
                if not points:
                    continue
                got = book.get((student, es.exercise.stem, category))
                want = (pytest.approx(cs.earned, abs=1e-3), points)
                if got is None or got != want:
                    mismatches.append(
                        f"{student} {es.exercise.slug} {category}: "
                        f"nbgrader {got}, grader grade {cs.earned}/{points}"
                    )
    assert not mismatches, "\n".join(mismatches)


def test_the_class_spans_full_zero_and_partial_marks(by_grader):
    earned = {s: {e.exercise.slug: e for e in r.exercises} for s, r in by_grader.items()}
    assert all(e.earned == e.possible for e in earned["reference"].values())
    for e in earned["stub"].values():
        assert e.categories["timing"].earned == 0 and e.categories["stress"].earned == 0
    for e in earned["mutants"].values():
        assert 0 < e.earned < e.possible, f"{e.exercise.slug}: mutant not partial"


def test_csv_export_equals_grader_grade(course, by_grader):
    with open(course["dir"] / "grades.csv", newline="") as fh:
        rows = {r["student_id"]: r for r in csv.DictReader(fh)}
    for student, report in by_grader.items():
        row = rows[student]
        assert float(row["max_score"]) == report.possible == 30
        assert float(row["score"]) == pytest.approx(report.earned, abs=1e-3), student


def test_hang_and_exit_are_failures_and_the_rest_is_graded(course, by_grader):
    book = _gradebook(course["dir"])
    assert book[("broken", "01_wait_for_all", "correctness")] == (0, 4)  # not handed in
    assert book[("broken", "16_concepts", "correctness")] == (0, 10)  # os._exit at import
    assert book[("broken", "15_amdahl", "correctness")] == (9, 10)  # one test hangs
    out = course["dir"] / "autograded" / "broken" / ASSIGNMENT
    amdahl = read_notebook(out / "15_amdahl.ipynb")["cells"]
    assert "✗ The cap is 1 / s" in json.dumps(amdahl, ensure_ascii=False)
    concepts = json.dumps(read_notebook(out / "16_concepts.ipynb")["cells"])
    assert "process exited" in concepts
    # The other students were graded after it.
    assert book[("stub", "15_amdahl", "correctness")] == (0, 10)


def test_released_notebooks_hold_no_solution_and_no_hidden_tests(course):
    release = course["dir"] / "release" / ASSIGNMENT
    for ex in EXERCISES:
        nb = read_notebook(release / f"{ex.stem}.ipynb")
        raw = (release / f"{ex.stem}.ipynb").read_text()
        code = [c for c in nb["cells"] if c["metadata"]["nbgrader"]["solution"]]
        stub = (ROOT / "exercises" / ex.module_file).read_text()
        assert [c["source"] for c in code] == [stub.rstrip() + "\n" + CODE_STUB]
        solution = (ROOT / "solutions" / ex.module_file).read_text().splitlines()
        leaked = [ln for ln in solution if len(ln.strip()) > 12 and ln not in stub.splitlines()]
        assert not [ln for ln in leaked if json.dumps(ln)[1:-1] in raw], ex.slug
        assert "BEGIN HIDDEN TESTS" not in raw and "score(" not in raw
        hidden = (ROOT / "grader" / "hidden" / ex.test_file).read_text()
        assert "def test_" not in raw and hidden[:200] not in raw


def test_autograded_hidden_cells_show_only_a_call(course):
    nb = read_notebook(course["dir"] / "autograded" / "reference" / ASSIGNMENT / "15_amdahl.ipynb")
    for cell in nb["cells"]:
        if cell["metadata"]["nbgrader"].get("grade"):
            lines = [ln for ln in cell["source"].splitlines() if ln.strip()]
            assert lines[1:] == [
                "### BEGIN HIDDEN TESTS",
                "from grader.nbgrader_cell import score",
                f'score("amdahl", "{cell["metadata"]["nbgrader"]["grade_id"]}")',
                "### END HIDDEN TESTS",
            ]
            assert not any(o.get("name") == "stderr" for o in cell["outputs"])


def test_the_instructor_source_notebook_validates(course):
    out = course["validate"].stdout + course["validate"].stderr
    assert "Success" in out, out[-3000:]
