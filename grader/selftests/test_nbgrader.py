"""The nbgrader course without nbgrader: notebooks, the check, import, and the kernel side.

The end-to-end run with real nbgrader is ``test_nbgrader_e2e.py`` (tox env ``nbgrader``).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from grader import catalogue as catalogue_mod
from grader import nbgrader_cell as cell
from grader.cli import main
from grader.nbgrader_course import (
    CODE_STUB,
    CourseError,
    build,
    check,
    config_text,
    import_class,
    read_notebook,
)

ROOT = Path(__file__).resolve().parents[2]
CAT = catalogue_mod.load()
CONCEPTS = CAT.get("concepts")
WAIT = CAT.get("wait_for_all")


def _ids(nb):
    return [c["id"] for c in nb["cells"]]


def test_build_writes_one_notebook_per_exercise_that_check_accepts(tmp_path):
    course = tmp_path / "course"
    assert main(["nbgrader", "build", str(course)]) == 0
    src = course / "source" / "concurrency"
    assert sorted(p.stem for p in src.glob("*.ipynb")) == sorted(e.stem for e in CAT)
    assert check(course) == []
    assert main(["nbgrader", "check", str(course)]) == 0
    assert "c.ClearSolutions.code_stub" in (course / "nbgrader_config.py").read_text()
    compile(config_text(), "nbgrader_config.py", "exec")


@pytest.mark.parametrize("ex", list(CAT), ids=lambda e: e.slug)
def test_notebook_cells_follow_the_catalogue_and_the_files(tmp_path, ex):
    built = build(tmp_path, only=[ex.slug])
    nb = read_notebook(built.notebooks[0])
    categories = [c for c, p in ex.points.items() if p]
    assert _ids(nb) == ["instructions", "setup", "code", "visible", *categories]
    by_id = {c["id"]: c for c in nb["cells"]}
    stub = (ROOT / "exercises" / ex.module_file).read_text()
    solution = (ROOT / "solutions" / ex.module_file).read_text()
    code = by_id["code"]["source"]
    assert code.startswith(stub.rstrip() + "\n### BEGIN SOLUTION\n")
    assert solution.rstrip() in code and code.endswith("### END SOLUTION")
    assert by_id["code"]["metadata"]["nbgrader"]["solution"] is True
    for category in categories:
        meta = by_id[category]["metadata"]["nbgrader"]
        assert meta["grade"] and meta["locked"] and meta["points"] == ex.points[category]
        assert by_id[category]["source"].splitlines()[1:] == [
            "### BEGIN HIDDEN TESTS",
            "from grader.nbgrader_cell import score",
            "",
            f'score("{ex.slug}", "{category}")',
            "### END HIDDEN TESTS",
        ]
    for cid in ("setup", "visible", *categories):
        assert cell.is_grader_cell(by_id[cid]["source"])
        assert cell.cell_timeout(by_id[cid]) >= (ex.exercise_timeout if cid != "setup" else 1)
    assert not cell.is_grader_cell(code)
    assert ex.title in by_id["instructions"]["source"] and "Generated" in str(nb)
    assert all(h in by_id["instructions"]["source"] for h in ex.hints)


def test_check_reports_edits_and_changed_sources(tmp_path):
    root = tmp_path / "root"
    for folder, name in (("exercises", CONCEPTS.module_file), ("solutions", CONCEPTS.module_file),
                         ("tests", CONCEPTS.test_file)):  # fmt: skip
        (root / folder).mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / folder / name, root / folder / name)
    course = tmp_path / "course"
    build(course, only=["concepts"], root=root)
    assert check(course, root=root) == []
    path = course / "source" / "concurrency" / f"{CONCEPTS.stem}.ipynb"
    nb = json.loads(path.read_text())
    nb["cells"][3]["source"] = ["print('edited')\n"]
    path.write_text(json.dumps(nb))
    assert any("'visible' differs" in p for p in check(course, root=root))
    build(course, only=["concepts"], root=root)
    (root / "solutions" / CONCEPTS.module_file).write_text("ANSWERS = {}\n")
    problems = check(course, root=root)
    assert any("other files" in p for p in problems) and any("'code'" in p for p in problems)
    assert main(["nbgrader", "check", str(tmp_path / "nowhere")]) == 1
    (course / "source" / "concurrency" / "99_unknown.ipynb").write_text(path.read_text())
    assert any("99_unknown" in p for p in check(course, root=root))


def test_build_leaves_a_foreign_config_alone_and_rejects_unknown_slugs(tmp_path, capsys):
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\n")
    assert main(["nbgrader", "build", str(tmp_path), "--only", "concepts"]) == 0
    assert (tmp_path / "nbgrader_config.py").read_text() == "c = get_config()\n"
    assert "left alone" in capsys.readouterr().out
    assert main(["nbgrader", "build", str(tmp_path), "--only", "nope"]) == 2


def test_import_turns_modules_into_submitted_notebooks(tmp_path):
    course = tmp_path / "course"
    klass = tmp_path / "class"
    assert main(["nbgrader", "import", str(klass), str(course), "concurrency"]) == 2  # no release
    build(course, only=["wait_for_all", "concepts"])
    shutil.copytree(course / "source", course / "release")  # stands in for generate_assignment
    with pytest.raises(CourseError, match="no student folders"):
        klass.mkdir()
        import_class(klass, course, "concurrency")
    (klass / "ada" / "exercises").mkdir(parents=True)  # a repository
    (klass / "bob").mkdir()  # a folder of modules, without wait_for_all
    code = (ROOT / "solutions" / CONCEPTS.module_file).read_text()
    (klass / "ada" / "exercises" / CONCEPTS.module_file).write_text(code)
    (klass / "ada" / "exercises" / WAIT.module_file).write_text("x = 1\n")
    (klass / "bob" / CONCEPTS.module_file).write_text(code)
    assert main(["nbgrader", "import", str(klass), str(course), "concurrency"]) == 0
    sub = course / "submitted"
    assert sorted(p.name for p in (sub / "ada" / "concurrency").glob("*.ipynb")) == [
        f"{WAIT.stem}.ipynb", f"{CONCEPTS.stem}.ipynb"
    ]  # fmt: skip
    assert [p.name for p in (sub / "bob" / "concurrency").glob("*.ipynb")] == [
        f"{CONCEPTS.stem}.ipynb"
    ]
    nb = read_notebook(sub / "bob" / "concurrency" / f"{CONCEPTS.stem}.ipynb")
    assert [c["source"] for c in nb["cells"] if c["id"] == "code"] == [code]
    stamp = (sub / "bob" / "concurrency" / "timestamp.txt").read_text()
    assert stamp.strip().endswith("UTC") and stamp[:2] == "20"


# --- the kernel side ----------------------------------------------------------------------------


class FakeShell:
    def __init__(self, history=()):
        self.handlers = []
        self.events = SimpleNamespace(
            register=lambda name, fn: self.handlers.append(fn),
            unregister=lambda name, fn: self.handlers.remove(fn),
        )
        self.input_transformers_cleanup = []
        self.history_manager = SimpleNamespace(input_hist_raw=["", *history])

    def run(self, source, cell_id=None):
        for fn in list(self.handlers):
            fn(SimpleNamespace(raw_cell=source, cell_id=cell_id))


@pytest.fixture
def shell(monkeypatch):
    monkeypatch.setattr(cell, "_recorder", None)
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    return FakeShell()


def test_the_recorder_keeps_student_cells_in_order_and_skips_grader_cells(shell, monkeypatch):
    cell.begin("concepts", shell)
    shell.run("a = 1", "c1")
    shell.run(f"# {cell.MARK} visible\nrun_visible_tests('concepts')", "c2")
    shell.run("b = 2", "c3")
    shell.run("a = 3", "c1")  # run again: replaces, keeps its place
    shell.run("   ", "c4")
    shell.run("c = 4")  # no cell id
    assert cell.student_cells(shell) == ["a = 3", "b = 2", "c = 4"]
    assert shell.input_transformers_cleanup == []
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    cell.begin("concepts", shell)  # run again: a fresh recorder, one handler
    assert len(shell.handlers) == 1 and shell.input_transformers_cleanup
    skip = shell.input_transformers_cleanup[0]
    assert skip(["import os\n", "os._exit(1)\n"]) == []
    assert skip([f"# {cell.MARK}\n", "score()\n"]) == [f"# {cell.MARK}\n", "score()\n"]
    cell.begin("concepts", None)  # outside IPython: nothing to hook


def test_without_the_setup_cell_the_history_is_used(shell):
    shell.history_manager.input_hist_raw += ["x = 1", f"# {cell.MARK}\nscore()", "", "y = 2"]
    assert cell.student_cells(shell) == ["x = 1", "y = 2"]
    assert cell.student_cells(None) == []  # not in IPython


def test_module_source_keeps_python_and_comments_out_ipython_lines():
    assert cell.module_source([]) == ""
    assert cell.module_source(["x = '%d'\n", "y = 2"]) == "x = '%d'\n\ny = 2\n"
    src = cell.module_source(["%time f()\nz = 1\n!ls"])
    assert "# (IPython-only line left out) %time f()" in src and "\nz = 1\n" in src
    assert "def (" in cell.module_source(["def (:"])  # a plain syntax error is kept
    assert cell.cell_timeout({"source": "print(1)"}) == cell.DEFAULT_CELL_TIMEOUT
    assert cell.cell_timeout({"source": ['score("nope", "x")']}) == cell.DEFAULT_CELL_TIMEOUT
    assert cell.cell_timeout(object()) == cell.DEFAULT_CELL_TIMEOUT


def test_score_grades_the_recorded_module_with_the_hidden_tests(shell, monkeypatch, capsys):
    monkeypatch.setattr(cell, "_shell", lambda: shell)
    monkeypatch.setenv(cell.SEED_ENV, "7")
    assert cell.score("concepts", "correctness") == 0.0  # nothing recorded yet
    assert "no code was found" in capsys.readouterr().out
    cell.begin("concepts", shell)
    solution = (ROOT / "solutions" / CONCEPTS.module_file).read_text()
    shell.run(solution.replace('"q5": "c"', '"q5": "a"'), "code")
    got = cell.score("concepts", "correctness")
    out = capsys.readouterr()
    assert got == 9.0 and out.err == ""
    assert "concepts · correctness: 9 of 10 points" in out.out and "✗" in out.out
    assert "race seed 7" in out.out
    assert cell.score("concepts", "timing") == 0.0  # cached run; no tests there
    import sys

    with cell._quiet():
        print("noise", file=sys.stderr)
    assert "noise" in capsys.readouterr().out


def test_score_raises_a_grader_fault_when_the_tests_cannot_run(shell, monkeypatch, capsys):
    monkeypatch.setattr(cell, "_shell", lambda: shell)
    monkeypatch.setattr(cell, "run_code", lambda ex, code: SimpleNamespace(error="boom"))
    cell.begin("concepts", shell)
    shell.run("ANSWERS = {}", "code")
    with pytest.raises(cell.GraderFault, match="boom"):
        cell.score("concepts", "correctness")


def test_an_ungradable_category_is_awarded(shell, monkeypatch, capsys):
    from grader.records import TestInfo, TestResult
    from grader.runner import ExerciseRun

    info = TestInfo(
        nodeid="t::a", exercise="wait_for_all", category="timing", weight=1.0, title="parallel"
    )
    run = ExerciseRun(WAIT, results=[TestResult(info, "ungradable", "one CPU")])
    monkeypatch.setattr(cell, "_shell", lambda: shell)
    monkeypatch.setattr(cell, "run_code", lambda ex, code: run)
    cell.begin("wait_for_all", shell)
    shell.run("x = 1", "code")
    assert cell.score("wait_for_all", "timing") == WAIT.points["timing"]
    assert "awarded in full" in capsys.readouterr().out


def test_visible_tests_run_on_the_recorded_module(shell, monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(cell, "_shell", lambda: shell)
    monkeypatch.chdir(tmp_path)
    cell.begin("concepts", shell)
    with pytest.raises(AssertionError, match="No code"):
        cell.run_visible_tests("concepts")
    shell.run((ROOT / "solutions" / CONCEPTS.module_file).read_text(), "code")
    cell.run_visible_tests("concepts")
    assert "passed" in capsys.readouterr().out
    shell.run("ANSWERS = {}", "code")
    with pytest.raises(AssertionError, match="visible tests failed"):
        cell.run_visible_tests("concepts")
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    cell.run_visible_tests("concepts")
    assert "do not run while autograding" in capsys.readouterr().out
    monkeypatch.delenv("NBGRADER_EXECUTION")
    monkeypatch.setattr(cell, "_visible_tests", lambda ex: None)
    cell.run_visible_tests("concepts")
    assert "not next to this notebook" in capsys.readouterr().out


def test_released_code_cell_is_the_stub_plus_one_comment():
    """What generate_assignment leaves (checked for real in the e2e test): the stub."""
    assert CODE_STUB.startswith("# ") and "\n" not in CODE_STUB
