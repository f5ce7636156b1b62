"""What the cells of the nbgrader course call, inside the Jupyter kernel.

A notebook made by ``grader nbgrader build`` (:mod:`grader.nbcourse.course`) has,
after its instructions, four kinds of code cell:

* a read-only **setup** cell, ``begin("slug")``: from then on every code cell the
  kernel runs that is not one of the grader's own cells (exactly the text
  :func:`grader.nbcourse.notebooks.grader_cells` generates) is recorded, in order;
  together they are the student's module ``NN_slug.py``;
* the student's **code** cell (nbgrader's solution cell; students may add more);
* a read-only **visible tests** cell, ``run_visible_tests("slug")``: the visible
  tests against the recorded module, in a child ``pytest``;
* one autograded **hidden tests** cell per category with points,
  ``score("slug", "category")`` between ``### BEGIN HIDDEN TESTS`` and
  ``### END HIDDEN TESTS`` (so the released notebook and nbgrader's feedback
  show a call, never test code).

``score`` grades with the engine of ``grader grade``: it writes the module to
a temporary folder and runs the exercise's hidden tests through
:func:`grader.grading.runner.run_exercise` (a child process: the amplifier, the timing
ideal, the hygiene checks and the isolation all apply, and a hang or
``os._exit`` in student code costs tests, never the kernel), once per module
text; the other categories' cells reuse that run. It prints plain-words
feedback on stdout and returns the category's points as the cell's value, which
nbgrader takes as partial credit; nothing reaches stderr (nbgrader gives a cell
with any stderr output 0).

While nbgrader autogrades (``NBGRADER_EXECUTION=autograde``), the kernel's guard
(:mod:`grader.nbcourse.guard`, loaded when the kernel starts) runs only the
grader's own cells: student cells are recorded, never run in the kernel; only the
sandboxed child runs them. Without the guard, ``score`` refuses to grade.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

from grader import catalogue as catalogue_mod
from grader import layout
from grader.catalogue import Exercise
from grader.nbcourse import guard as nbgrader_guard
from grader.nbcourse.course import KERNEL_ARGUMENTS
from grader.nbcourse.guard import autograding
from grader.reports.sanitize import terminal_text

SEED_ENV = "GRADER_SEED"  # a fixed race-amplifier seed (to replay, or to compare two paths)
DEFAULT_CELL_TIMEOUT = 60  # seconds: any cell that is not the grader's
_RUNS: dict[tuple[str, str], Any] = {}  # (slug, sha256 of the module) -> HiddenTestRun


class GraderFault(RuntimeError):
    """The hidden tests could not run: the grader's fault, not the student's."""


# --- collecting the student's module ------------------------------------------------------------


NOT_GUARDED = (
    "this kernel was not started with the grader's guard, so it may have run student code: "
    "nothing is graded. Add `c.Execute.extra_arguments = "
    f"{list(KERNEL_ARGUMENTS)!r}` to nbgrader_config.py (`grader nbgrader check` says so). "
    "A grader fault: tell your instructor."
)


def _shell() -> Any:
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - always there in a kernel
        return None
    return get_ipython()


def begin(slug: str, shell: Any = None) -> None:
    """The setup cell: record every student cell run from now on.

    While autograding it also fixes the notebook's exercise for the kernel's guard, and
    fails when the kernel was started without it (see :mod:`grader.nbcourse.guard`).
    """
    shell = shell if shell is not None else _shell()
    catalogue_mod.load().get(slug)  # fail loudly on a notebook from another catalogue
    if shell is None:
        return
    guard = nbgrader_guard.install(shell)  # None unless autograding
    if guard is not None:
        guard.lock(slug)
    nbgrader_guard.record(shell, slug)
    if guard is not None and not guard.at_start:
        raise GraderFault(NOT_GUARDED)


def student_cells(slug: str, shell: Any = None) -> list[str]:
    """The student's cells, in order: recorded since ``begin``, else the kernel's history."""
    cells = nbgrader_guard.recorded()
    if cells is not None:
        return cells
    shell = shell if shell is not None else _shell()
    if shell is None:
        return []
    raw = shell.history_manager.input_hist_raw[1:]
    return [c for c in raw if c.strip() and nbgrader_guard.exercise_of(c) is None]


def _check_guard(slug: str) -> None:
    """While autograding, grade only in a kernel guarded from its first cell, for its exercise."""
    if not autograding():
        return
    guard = nbgrader_guard.active()
    if guard is None or not guard.at_start:
        raise GraderFault(f"{slug}: {NOT_GUARDED}")
    if guard.slug != slug:
        raise GraderFault(f"{slug}: this notebook is set up for {guard.slug!r}: not graded here")


def module_source(cells: list[str]) -> str:
    """The module the cells make. A cell that is not valid Python only because of
    IPython lines (``%magic``, ``!shell``) gets those lines commented out."""
    parts = []
    for cell in cells:
        try:
            compile(cell, "<cell>", "exec")
        except SyntaxError:
            cell = "\n".join(
                f"# (IPython-only line left out) {line}" if line.startswith(("%", "!")) else line
                for line in cell.split("\n")
            )
        except ValueError:  # null bytes: let the grading child report it
            pass
        parts.append(cell.rstrip("\n"))
    return "\n\n".join(parts) + "\n" if parts else ""


# --- grading ------------------------------------------------------------------------------------


def _seed(exercise: Exercise, code: str) -> int:
    """The environment's seed, else one derived from the code (as ``grader grade --only``)."""
    from grader.grading.seeding import content_seed

    value = os.environ.get(SEED_ENV)
    return int(value) if value else content_seed({exercise.module_file: code.encode()}, [exercise])


def run_code(exercise: Exercise, code: str, seed: int | None = None):
    """The hidden tests of ``exercise`` on ``code``, run once per module text (cached)."""
    from grader.grading.runner import run_exercise

    key = (exercise.slug, hashlib.sha256(code.encode()).hexdigest())
    if key not in _RUNS:
        with tempfile.TemporaryDirectory(prefix=f"nbgrader-{exercise.slug}-") as tmp:
            (Path(tmp) / exercise.module_file).write_text(code, encoding="utf-8")
            seed = _seed(exercise, code) if seed is None else seed
            _RUNS[key] = run_exercise(exercise, Path(tmp), seed=seed)
    return _RUNS[key]


def category_feedback(exercise: Exercise, category: str, earned: float, possible: float, results):
    """Plain-words feedback for one category's cell."""
    lines = [f"{exercise.slug} · {category}: {earned:g} of {possible:g} points"]
    for r in results:
        mark = {"passed": "✓", "ungradable": "–"}.get(r.outcome, "✗")
        line = f"  {mark} {r.info.title}"
        if r.outcome != "passed" and r.diagnosis:
            line += f": {terminal_text(r.diagnosis.splitlines()[0])}"  # shown in the feedback
        lines.append(line)
    return "\n".join(lines)


@contextlib.contextmanager
def _quiet():
    """No warnings and no stderr while grading: what would go there is shown on stdout."""
    buf = io.StringIO()
    try:
        with warnings.catch_warnings(), contextlib.redirect_stderr(buf):
            warnings.simplefilter("ignore")
            yield
    finally:
        text = buf.getvalue().strip()
        if text:
            limit = catalogue_mod.load().output_limit
            shown = terminal_text(text[:limit])
            print(f"(written to stderr while grading, shown here instead)\n{shown}")


def score(slug: str, category: str) -> float:
    """A hidden-tests cell: grade the student's module; return this category's points."""
    from grader.grading.scoring import score_exercise

    with _quiet():
        exercise = catalogue_mod.load().get(slug)
        points = exercise.points.get(category, 0.0)
        _check_guard(slug)
        code = module_source(student_cells(slug))
        if not code.strip():
            print(
                f"{slug} · {category}: 0 of {points:g} points: no code was found. "
                "Run the notebook from the top (the setup cell, then your code)."
            )
            return 0.0
        run = run_code(exercise, code)
        if run.error:
            raise GraderFault(f"{slug}: {run.error} (a grader fault: tell your instructor)")
        result = score_exercise(run).categories[category]
        if result.possible == 0 and points:
            # Every test of the category is ungradable on this machine: `grader grade`
            # leaves it out of the maximum; nbgrader's maximum is fixed, so it is awarded.
            print(f"{slug} · {category}: cannot be measured on this machine; awarded in full")
            return points
        print(category_feedback(exercise, category, result.earned, points, result.results))
        meta = run.meta
        print(
            f"(Python {meta.get('python', '?')}, {meta.get('cpus', '?')} CPU(s), "
            f"race seed {meta.get('seed', '?')})"
        )
        return min(result.earned, points)


# --- the visible tests --------------------------------------------------------------------------


def _visible_tests(exercise: Exercise) -> Path | None:
    for folder in (layout.Pack(Path.cwd()).tests, layout.TESTS):
        if (folder / exercise.test_file).is_file():
            return folder / exercise.test_file
    return None


def run_visible_tests(slug: str) -> None:
    """The visible-tests cell: run them on the student's module; raise if any fails."""
    exercise = catalogue_mod.load().get(slug)
    if autograding():
        print("(The visible tests do not run while autograding: the hidden tests below grade.)")
        return
    tests = _visible_tests(exercise)
    if tests is None:
        print(f"The visible tests (tests/{exercise.test_file}) are not next to this notebook.")
        return
    code = module_source(student_cells(slug))
    if not code.strip():
        raise AssertionError("No code to test: run the notebook from the top.")
    with tempfile.TemporaryDirectory(prefix=f"visible-{slug}-") as tmp:
        (Path(tmp) / exercise.module_file).write_text(code, encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
        env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
        env["PYTHONPATH"] = str(layout.PACK)
        cmd = [
            sys.executable, "-m", "pytest", str(tests), "-p", "grader.harness.plugin",
            "-p", "pytest_timeout", "-p", "no:cacheprovider", "--noconftest", "-q",
            "--color=no", "--tb=line", "--rootdir", tmp, "-c", str(layout.HIDDEN / "pytest.ini"),
            f"--timeout={exercise.test_timeout:g}", "--impl", tmp,
        ]  # fmt: skip
        proc = subprocess.run(
            cmd, cwd=tmp, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
            timeout=exercise.exercise_timeout, check=False,
        )  # fmt: skip
    print(proc.stdout.strip())
    if proc.returncode != 0:
        raise AssertionError(f"{slug}: some visible tests failed (see above)")


def cell_timeout(cell: Any) -> int:
    """nbclient's ``timeout_func``: a grader cell may take its exercise's whole time limit."""
    source = cell.get("source", "") if hasattr(cell, "get") else ""
    if isinstance(source, list):
        source = "".join(source)
    slug = nbgrader_guard.exercise_of(source) if isinstance(source, str) else None
    if slug is not None:
        with contextlib.suppress(KeyError):
            return int(catalogue_mod.load().get(slug).exercise_timeout) + 60
    return DEFAULT_CELL_TIMEOUT
