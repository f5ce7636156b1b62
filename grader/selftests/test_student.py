"""The student's commands and failure messages: check (with the GitHub outputs), status,
watch, reset, and the trimmed, plain-words failures of ``--progress``."""

from __future__ import annotations

import json
import shutil
import threading
import time
from pathlib import Path

import pytest

from grader import catalogue as catalogue_mod
from grader import progress, student_ci
from grader.cli import main
from grader.commands import student
from grader.release import ROOT

AMDAHL = catalogue_mod.load().get("amdahl")  # its stub raises NotImplementedError: fast


@pytest.fixture
def pack(tmp_path) -> Path:
    """A folder laid out like the student pack (exercises, tests), using this grader."""
    shutil.copytree(ROOT / "exercises", tmp_path / "exercises")
    shutil.copytree(ROOT / "tests", tmp_path / "tests")
    return tmp_path


def test_check_writes_github_annotations_summary_and_results(pack, monkeypatch, capsys):
    summary = pack / "summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    argv = ["check", "amdahl", "--root", str(pack), "--json", str(pack / "results.json")]
    assert main(argv) == 1
    out = capsys.readouterr().out
    stub = (pack / "exercises" / AMDAHL.module_file).read_text().splitlines()
    line = next(i for i, text in enumerate(stub, 1) if "raise NotImplementedError" in text)
    assert f"::error file=exercises/{AMDAHL.module_file},line={line},title=amdahl%3A" in out
    table = summary.read_text()
    assert "| 15 | `amdahl` | ❌" in table and "NotImplementedError" in table
    assert "hidden tests" in table
    results = json.loads((pack / "results.json").read_text())
    assert results["tests"] and all(t["status"] == "failed" for t in results["tests"])

    shutil.copy(ROOT / "solutions" / AMDAHL.module_file, pack / "exercises" / AMDAHL.module_file)
    assert main(["check", "amdahl", "--root", str(pack)]) == 0
    assert "::error" not in capsys.readouterr().out
    assert "| 15 | `amdahl` | ✅ solved |" in summary.read_text()
    state = student.load_state(pack)
    assert state["amdahl"]["passed"] == state["amdahl"]["total"] > 0


def test_junit_xml_is_written_with_junitparser(pack):
    junitparser = pytest.importorskip("junitparser")  # the `release` env and the student pack
    assert main(["check", "amdahl", "--root", str(pack), "--junit", str(pack / "junit.xml")]) == 1
    suites = list(junitparser.JUnitXml.fromfile(str(pack / "junit.xml")))
    assert [s.name for s in suites] == ["15_amdahl"]
    assert suites[0].failures == suites[0].tests > 0


def test_student_failures_are_plain_and_show_only_the_students_frames(pack, capfd):
    assert main(["check", "amdahl", "--root", str(pack)]) == 1
    out = capfd.readouterr().out
    assert "In your code (innermost last):" in out
    assert f"exercises/{AMDAHL.module_file}:" in out
    assert "grader/plugin.py" not in out and "_pytest" not in out
    assert "Next: 15_amdahl" in out and "tox -e hint -- amdahl" in out


def test_unknown_exercise(pack, capsys):
    assert main(["check", "nope", "--root", str(pack)]) == 2
    assert main(["watch", "nope", "--root", str(pack)]) == 2
    assert main(["reset", "nope", "--root", str(pack)]) == 2
    assert "no exercise 'nope'" in capsys.readouterr().err


def test_status_tells_not_started_edited_failing_and_solved(pack, monkeypatch, capsys):
    monkeypatch.setattr(student, "STUBS_DIR", ROOT / "exercises")
    cat = catalogue_mod.load()
    state = student.load_state(pack)
    assert student.exercise_status(pack, AMDAHL, state) == ("not started", "-")
    target = pack / "exercises" / AMDAHL.module_file
    target.write_text(target.read_text() + "\n# my work\n")
    assert student.exercise_status(pack, AMDAHL, state)[0] == "not run yet"
    report = {"tests": [{"exercise": "amdahl", "outcome": "failed", "message": "boom\nmore"}]}
    student.remember(pack, report)
    state = student.load_state(pack)
    assert student.exercise_status(pack, AMDAHL, state) == ("1 failing", "0/1")
    target.write_text(target.read_text() + "# more\n")
    assert student.exercise_status(pack, AMDAHL, state)[0] == "edited since last run"
    student.remember(pack, {"tests": [{"exercise": "amdahl", "outcome": "passed"}]})
    assert student.exercise_status(pack, AMDAHL, student.load_state(pack)) == ("solved", "1/1")
    (pack / "exercises" / cat.get("concepts").module_file).unlink()
    assert student.exercise_status(pack, cat.get("concepts"), state) == ("missing", "-")
    assert main(["status", "--root", str(pack)]) == 0
    out = capsys.readouterr().out
    assert "1 of 16 exercises solved" in out and "Next: 01_wait_for_all" in out


def test_reset_restores_the_stub_and_keeps_a_backup(pack, monkeypatch, capsys):
    target = pack / "exercises" / AMDAHL.module_file
    assert main(["reset", "amdahl", "--root", str(pack)]) == 2  # no pristine stubs here
    assert "student pack" in capsys.readouterr().err
    monkeypatch.setattr(student, "STUBS_DIR", ROOT / "exercises")
    assert main(["reset", "amdahl", "--root", str(pack)]) == 0
    assert "already the original stub" in capsys.readouterr().out
    for attempt in ("first try\n", "second try\n"):
        target.write_text(attempt)
        assert main(["reset", "amdahl", "--root", str(pack)]) == 0
    assert target.read_bytes() == (ROOT / "exercises" / AMDAHL.module_file).read_bytes()
    backups = sorted((pack / ".grader" / "backups").iterdir())
    assert sorted(b.read_text() for b in backups) == ["first try\n", "second try\n"]
    assert "Your version is saved as .grader/backups/15_amdahl." in capsys.readouterr().out


def test_watch_reruns_an_exercise_when_it_is_saved(pack, capfd):
    target = pack / "exercises" / AMDAHL.module_file

    def save_later() -> None:
        time.sleep(0.5)
        target.write_text(target.read_text() + "\n# saved\n")

    saver = threading.Thread(target=save_later)
    saver.start()
    argv = ["watch", "amdahl", "--root", str(pack), "--interval", "0.1", "--max-runs", "1"]
    assert main(argv) == 0
    saver.join()
    out = capfd.readouterr().out
    assert "run the tests by hand: tox -e check -- amdahl" in out
    assert f"{AMDAHL.module_file} changed: running its visible tests" in out
    assert student.load_state(pack)["amdahl"]["total"] > 0


def test_watch_stops_on_ctrl_c(pack, monkeypatch, capsys):
    def interrupt(_seconds: float) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(student.time, "sleep", interrupt)
    assert main(["watch", "--root", str(pack)]) == 0
    assert "Stopped watching" in capsys.readouterr().out


def test_check_reports_a_run_that_did_not_finish(pack, capfd):
    (pack / "tests" / "test_broken.py").write_text("import nothing_here_at_all\n")
    assert main(["check", "--root", str(pack), "--pytest", "tests/test_broken.py -x"]) != 0
    assert "did not run to the end" in capfd.readouterr().err


# --- the pieces of the failure messages -----------------------------------------------------


def _raise_in(path: Path, source: str) -> BaseException:
    code = compile(source, str(path), "exec")
    try:
        exec(code, {})
    except BaseException as exc:
        return exc
    raise AssertionError("did not raise")


def test_plain_message():
    assert progress.plain_message(AssertionError("expected 3\nassert 1 == 3")) == "expected 3"
    assert "no description" in progress.plain_message(AssertionError("assert x"))
    assert progress.plain_message(ValueError("bad")) == "ValueError: bad"
    assert progress.plain_message(ValueError()) == "ValueError"
    assert progress.plain_message(RuntimeError("x" * 50), limit=10).endswith("…")
    failed = type("Failed", (Exception,), {})
    assert progress.plain_message(failed("stop here")) == "stop here"


def test_student_frames_follow_the_cause(tmp_path):
    mine = tmp_path / "exercises" / "mine.py"
    mine.parent.mkdir()
    inner = _raise_in(mine, "def f():\n    raise KeyError('k')\nf()\n")
    try:
        raise AssertionError("the function raised KeyError") from inner
    except AssertionError as outer:
        frames = progress.student_frames(outer, mine.parent)
    assert [(f.name, f.lineno) for f in frames] == [("<module>", 3), ("f", 2)]
    assert progress.student_frames(ValueError("no traceback"), mine.parent) == []


def test_describe_failure_points_at_todo_without_student_frames(tmp_path):
    impl = tmp_path / "exercises"
    impl.mkdir()
    (impl / AMDAHL.module_file).write_text("x = 1\n# TODO: here\n")
    outcome = progress.describe_failure("t", AMDAHL, AssertionError("wrong"), impl, tmp_path)
    assert (outcome.file.endswith(AMDAHL.module_file), outcome.line) == (True, 2)
    assert "Look at" in progress.render_failure(outcome)
    assert progress.describe_failure("t", AMDAHL, None, impl, tmp_path).message == "failed"
    assert progress.todo_line(tmp_path / "missing.py") is None


def test_annotations_escape_and_skip_passing_exercises():
    cat = catalogue_mod.load()
    report = {
        "tests": [
            {"exercise": "amdahl", "name": "a", "outcome": "failed", "message": "50%\nnext",
             "file": "exercises/15_amdahl.py", "line": 7, "frames": ["x:1 in f"]},
            {"exercise": "amdahl", "name": "b", "outcome": "failed", "message": "m",
             "file": None, "line": None, "frames": []},
            {"exercise": "concepts", "name": "c", "outcome": "passed", "message": ""},
        ]
    }  # fmt: skip
    runs = student_ci.by_exercise(report, cat)
    (line,) = student_ci.annotations(runs)
    assert line.startswith("::error file=exercises/15_amdahl.py,line=7,title=amdahl%3A a (and 1")
    assert line.endswith("::50%25%0Anext%0AIn your code:%0Ax:1 in f")
    assert "| 16 | `concepts` | ✅ solved | 1/1 |" in student_ci.summary_markdown(runs)
    assert student_ci.results_json(runs)["score"] == 1.0
