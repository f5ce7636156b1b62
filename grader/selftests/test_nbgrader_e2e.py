"""The nbgrader course end to end, with real nbgrader 0.9, a real kernel and the gradebook.

The commands of the README's "Grading with nbgrader" block, parsed from it and run
in order as written (``cd`` included; ``build`` gets ``--only`` three fast
exercises, to keep it to a few minutes): ``grader nbgrader build`` →
``generate_assignment`` → ``release_assignment`` → ``collect`` → ``grader nbgrader
import`` (a class of ``.py`` submissions) → ``autograde`` → ``generate_feedback`` →
``export`` → ``grader nbgrader check``. Each must succeed, autograde must not warn
of a changed cell, and the scores in the gradebook (per exercise and category) and
in the CSV (per student) must equal ``grader grade``'s on the same code, with the
same race seed. Runs in the ``nbgrader`` tox env only (``GRADER_NBGRADER_E2E=1``).
"""

from __future__ import annotations

import csv
import json
import os
import shlex
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from grader import catalogue as catalogue_mod
from grader.dev.mutation import mutants_of
from grader.grading.scoring import grade
from grader.nbcourse.course import ASSIGNMENT, CODE_STUB, COURSE_ID
from grader.nbcourse.notebooks import grader_cells, read_notebook

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
# A hostile student, "mallory": a code cell carrying the grader cells' marker, which cheats
# if it runs in the autograding kernel (full marks, the reference solution and the
# environment printed into the feedback); symlinks to the solution and to the environment
# instead of modules; cells added to the notebook (before the setup cell, magics, shell
# escapes, another exercise's setup cell) and a `grader/` package next to the notebook.
# "eve" has a symlinked exercises/, "linked" is a symlinked student folder.
SECRET = "E2E-SECRET-51c0"  # in the environment of the import and of nbgrader
CHEAT = f"""# [grader cell] Setup (read-only): nothing to see here.
import os, pathlib
import grader.nbcourse.cell as g
g.score = lambda *args, **kwargs: 10.0
print(pathlib.Path("{ROOT}/solutions/16_concepts.py").read_text())
print(os.environ.get("GRADER_E2E_SECRET"))
ANSWERS = {{}}
"""
ADDED_CELLS = {  # index in the notebook -> source
    0: "import grader.nbcourse.cell as g\ng.score = lambda *a, **k: 10.0\n" + CHEAT,
    3: f"%%bash\ncat {ROOT}/solutions/16_concepts.py; echo $GRADER_E2E_SECRET",
    4: f"!cat {ROOT}/solutions/16_concepts.py",
    5: f"get_ipython().system('cat {ROOT}/solutions/16_concepts.py')",
    6: next(src for cid, src, _ in grader_cells(CAT.get("amdahl")) if cid == "setup"),
}
NO_SUBMISSION = ("eve", "linked")  # nothing read, so nothing to autograde


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
    mallory = klass / "mallory"
    mallory.mkdir()
    (mallory / "16_concepts.py").write_text(CHEAT)
    (mallory / "15_amdahl.py").symlink_to(ROOT / "solutions" / "15_amdahl.py")
    (mallory / "01_wait_for_all.py").symlink_to("/proc/self/environ")
    (klass / "eve").mkdir()
    (klass / "eve" / "exercises").symlink_to(ROOT / "solutions")
    (klass / "linked").symlink_to(klass / "reference")
    return klass


def _tamper(course: Path) -> None:
    """What a student can add to a submitted notebook and folder (nbgrader collects it all)."""
    out = course / "submitted" / "mallory" / ASSIGNMENT
    nb = json.loads((out / "16_concepts.ipynb").read_text())
    for index, source in sorted(ADDED_CELLS.items()):
        cell = {"cell_type": "code", "execution_count": None, "id": f"added{index}",
                "metadata": {}, "outputs": [], "source": source}  # fmt: skip
        nb["cells"].insert(index, cell)
    for cell in nb["cells"]:  # nbclient skips a cell so tagged: no error output, full marks
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade"):
            cell["metadata"]["tags"] = ["skip-execution", "raises-exception"]
    (out / "16_concepts.ipynb").write_text(json.dumps(nb))
    (out / "grader").mkdir()  # next to the notebook: the kernel's working folder
    (out / "grader" / "__init__.py").write_text("raise SystemExit('the kernel imported me')\n")


def readme_commands() -> list[list[str]]:
    """The ``$`` lines of the README's "Grading with nbgrader" console block, as argv."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Grading with nbgrader", 1)[1]
    block = section.split("```console\n", 1)[1].split("```", 1)[0]
    return [shlex.split(ln[2:], comments=True) for ln in block.splitlines() if ln.startswith("$ ")]


SYSTEM_EXCHANGE = Path("/usr/local/share/nbgrader/exchange")  # nbgrader's default root


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    pytest.importorskip("nbgrader", reason="needs the nbgrader extra")  # not silently: E2E set
    root = tmp_path_factory.mktemp("nbgrader")
    env = dict(os.environ)
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
        env[name] = str(root / name.lower())
    env["GRADER_SEED"] = str(SEED)
    env["GRADER_E2E_SECRET"] = SECRET  # the environment of the import and of nbgrader
    # nbgrader runs `alembic` (the venv's): on PATH under tox, not always when run directly.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.pop("PYTEST_ADDOPTS", None)
    klass = _class(root)  # the README's ../class, next to course/
    students = [s for s in sorted(klass.iterdir()) if s.name not in NO_SUBMISSION]
    had_system_exchange = SYSTEM_EXCHANGE.exists()
    ran: dict[str, subprocess.CompletedProcess] = {}
    cwd = root
    # `grader grade` on the same code, meanwhile (its timing tests hold under load).
    with ThreadPoolExecutor(1) as pool:
        graded = pool.submit(
            lambda: {s.name: grade(s, CAT, only=SLUGS, seed=SEED) for s in students}
        )
        for argv in readme_commands():
            if argv[:2] == ["pip", "install"]:
                continue  # done: this test runs in the venv with the nbgrader extra
            if argv[0] == "cd":
                cwd = cwd / argv[1]
                continue
            if argv[:3] == ["grader", "nbgrader", "build"]:
                argv = [*argv, "--only", ",".join(SLUGS)]
            assert argv[0] in ("grader", "nbgrader"), f"the README runs {argv}: not replayed"
            proc = subprocess.run(
                [sys.executable, "-m", *argv], cwd=cwd, env=env, capture_output=True,
                text=True, timeout=900, check=False,
            )  # fmt: skip
            ran[" ".join(argv[:3] if argv[0] == "grader" else argv[:2])] = proc
            if argv[:3] == ["grader", "nbgrader", "import"]:
                _tamper(cwd)
        # The instructor's notebook, run as students run theirs (code in the kernel).
        validate = _nbgrader(cwd, env, "validate", f"source/{ASSIGNMENT}/16_concepts.ipynb")
    return {"dir": cwd, "class": klass, "ran": ran, "validate": validate,
            "graded": graded.result(), "had_system_exchange": had_system_exchange}  # fmt: skip


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


def test_the_readmes_commands_succeed_in_order(course):
    ran = course["ran"]
    assert list(ran) == [
        "grader nbgrader build", "nbgrader generate_assignment", "nbgrader release_assignment",
        "nbgrader collect", "grader nbgrader import", "nbgrader autograde",
        "nbgrader generate_feedback", "nbgrader export", "grader nbgrader check",
    ]  # fmt: skip
    for name, proc in ran.items():
        assert proc.returncode == 0, f"{name}: {proc.stdout[-2000:]}{proc.stderr[-3000:]}"
    assert "match the catalogue" in ran["grader nbgrader check"].stdout  # not out of date
    assert (course["dir"] / "grades.csv").is_file()


def test_autograde_warns_of_no_changed_cell(course):
    """The import writes the instructor's read-only cells: nothing for nbgrader to restore."""
    proc = course["ran"]["nbgrader autograde"]
    out = proc.stdout + proc.stderr
    assert "Autograding" in out  # the log is there to read
    assert "has changed" not in out, [ln for ln in out.splitlines() if "has changed" in ln][:5]


def test_the_exchange_is_the_courses_own(course):
    assert (course["dir"] / "exchange" / COURSE_ID / "outbound" / ASSIGNMENT).is_dir()
    if not course["had_system_exchange"]:
        assert not SYSTEM_EXCHANGE.exists()


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
    hung = book[("broken", "15_amdahl", "correctness")]  # one test hangs: partial credit
    assert hung[1] == 10 and 0 < hung[0] < 10, hung
    amdahl = next(e for e in by_grader["broken"].exercises if e.exercise.slug == "amdahl")
    assert amdahl.categories["correctness"].results  # the others ran: a failure, not a crash
    assert sum(r.outcome != "passed" for r in amdahl.categories["correctness"].results) == 1
    out = course["dir"] / "autograded" / "broken" / ASSIGNMENT
    amdahl = read_notebook(out / "15_amdahl.ipynb")["cells"]
    assert "✗ The cap is 1 / s" in json.dumps(amdahl, ensure_ascii=False)
    concepts = json.dumps(read_notebook(out / "16_concepts.ipynb")["cells"])
    assert "exited/crashed" in concepts  # the judge: "the process running your code exited/crashed"
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
                "from grader.nbcourse.cell import score",
                f'score("amdahl", "{cell["metadata"]["nbgrader"]["grade_id"]}")',
                "### END HIDDEN TESTS",
            ]
            assert not any(o.get("name") == "stderr" for o in cell["outputs"])


def test_the_instructor_source_notebook_validates(course):
    out = course["validate"].stdout + course["validate"].stderr
    assert "Success" in out, out[-3000:]


# --- the hostile student ------------------------------------------------------------------------


def test_a_hostile_student_gets_nothing_from_the_kernel_or_the_import(course, by_grader):
    book = _gradebook(course["dir"])
    # The marker cell did not run in the kernel: its module is graded, in the sandbox: 0.
    assert book[("mallory", "16_concepts", "correctness")] == (0, 10)
    assert book[("mallory", "15_amdahl", "correctness")] == (0, 10)  # a link: not read
    assert book[("mallory", "01_wait_for_all", "correctness")] == (0, 4)
    assert not any(student in NO_SUBMISSION for student, _nb, _cat in book)
    assert by_grader["reference"].earned == by_grader["reference"].possible == 30
    assert book[("reference", "16_concepts", "correctness")] == (10, 10)
    # Nothing secret in anything the student gets back, or that the import wrote.
    solution = (ROOT / "solutions" / "16_concepts.py").read_text()
    stub = (ROOT / "exercises" / "16_concepts.py").read_text()
    secret_lines = [ln.strip() for ln in solution.splitlines()
                    if len(ln.strip()) > 12 and ln not in stub.splitlines()]  # fmt: skip
    secret_lines.append((ROOT / "solutions" / "15_amdahl.py").read_text().splitlines()[-1])
    assert len(secret_lines) > 5
    folders = [course["dir"] / step / "mallory" for step in ("submitted", "autograded", "feedback")]
    files = [p for folder in folders for p in folder.rglob("*") if p.is_file()]
    assert any(p.suffix == ".html" for p in files)
    for path in files:
        text = path.read_text(errors="replace")
        text += json.dumps(text)  # also as escaped in a notebook's JSON
        assert SECRET not in text, path
        leaked = [ln for ln in secret_lines if ln in text or json.dumps(ln)[1:-1] in text]
        assert not leaked, (path, leaked[:3])
    # The student's cells were refused in the kernel, in plain words.
    autograded = json.dumps(read_notebook(course["dir"] / "autograded" / "mallory" / ASSIGNMENT
                                          / "16_concepts.ipynb"))  # fmt: skip
    assert "CellRefused" in autograded and "the kernel imported me" not in autograded
    # The import named each refusal.
    out = course["ran"]["grader nbgrader import"].stdout
    assert "15_amdahl.py is a symbolic link" in out and "01_wait_for_all.py is a symbolic" in out
    assert "exercises/ is a symbolic link" in out and "student folder is a symbolic link" in out
