"""Isolation in ``grader grade``: a broken or hanging exercise costs that exercise only."""

from __future__ import annotations

import dataclasses
import json
import os
import time
from pathlib import Path

import pytest

from grader import catalogue as catalogue_mod
from grader.cli import main
from grader.dev.check import ROOT
from grader.grading.runner import run_exercise, submission_frames_in_dump
from grader.grading.scoring import grade, score_exercise
from grader.harness.diagnosis import diagnose

CAT = catalogue_mod.load()
WAIT = CAT.get("wait_for_all")
SOLUTION = (ROOT / "solutions" / WAIT.module_file).read_text()


def submission(tmp_path: Path, source: str) -> Path:
    (tmp_path / WAIT.module_file).write_text(source)
    return tmp_path


def quick(exercise, test_timeout=3.0, exercise_timeout=12.0):
    return dataclasses.replace(
        exercise, test_timeout=test_timeout, exercise_timeout=exercise_timeout
    )


def outcomes(run) -> set[str]:
    return {r.outcome for r in run.results}


def test_missing_module_fails_every_test_with_a_clear_reason(tmp_path):
    run = run_exercise(WAIT, tmp_path, seed=1)
    assert run.results and outcomes(run) == {"failed"}
    assert all("is missing" in r.diagnosis for r in run.results)


def test_syntax_error_is_named_with_its_line(tmp_path):
    run = run_exercise(WAIT, submission(tmp_path, "def fetch_all(:\n"), seed=1)
    assert all("syntax error on line 1" in r.diagnosis for r in run.results)


def test_missing_package_at_import(tmp_path):
    run = run_exercise(WAIT, submission(tmp_path, "import no_such_package_xyz\n"), seed=1)
    assert all("ModuleNotFoundError" in r.diagnosis for r in run.results)


def test_exit_at_import_costs_only_the_score(tmp_path):
    run = run_exercise(WAIT, submission(tmp_path, "import os\nos._exit(0)\n"), seed=1)
    assert run.results and outcomes(run) == {"failed"}
    assert all("exited/crashed" in r.diagnosis or "broke its channel" in r.diagnosis
               for r in run.results)  # fmt: skip
    assert score_exercise(run).earned == 0


def test_hang_at_import_fails_fast(tmp_path):
    started = time.perf_counter()
    run = run_exercise(
        quick(WAIT), submission(tmp_path, "import time\ntime.sleep(10**6)\n"), seed=1
    )
    assert time.perf_counter() - started < 15
    assert outcomes(run) == {"failed"}
    assert all("did not finish" in r.diagnosis for r in run.results)


def test_a_hang_inside_the_function_is_bounded_and_shows_the_students_frame(tmp_path):
    source = SOLUTION.replace(
        '    """Call ``fetch`` on every url', '    import time; time.sleep(10**6)\n    """x', 1
    )
    started = time.perf_counter()
    run = run_exercise(quick(WAIT), submission(tmp_path, source), seed=1)
    assert time.perf_counter() - started < 20
    assert outcomes(run) == {"failed"}
    assert any(
        "hang or deadlock" in r.diagnosis or "time limit" in r.diagnosis for r in run.results
    )


def test_os_exit_inside_one_test_fails_that_test_and_the_others_still_run(tmp_path):
    # Exits only when asked for exactly 50 urls: one parametrised case.
    source = SOLUTION + (
        "\n_real = fetch_all\n"
        "def fetch_all(urls, fetch):\n"
        "    if len(urls) == 50:\n"
        "        import os; os._exit(3)\n"
        "    return _real(urls, fetch)\n"
    )
    run = run_exercise(WAIT, submission(tmp_path, source), seed=1)
    failed = [r for r in run.results if r.outcome != "passed"]
    # Only the tests that call fetch_all with 50 urls crash (the [50] case, and any
    # other test of that size); each of them fails alone, every other test passes.
    assert failed and any("[50]" in r.info.title for r in failed)
    assert all("exited/crashed" in r.diagnosis for r in failed)
    assert len(failed) <= 2 and len(run.results) - len(failed) >= len(run.results) - 2


def test_student_frames_are_the_only_frames_shown(tmp_path):
    dump = (
        f'  File "{tmp_path}/01_wait_for_all.py", line 3, in fetch_all\n    time.sleep(5)\n'
        '  File "/secret/hidden/test_01.py", line 9, in test_x\n    assert secret\n'
    )
    shown = submission_frames_in_dump(dump, tmp_path)
    assert "01_wait_for_all.py:3 in fetch_all: time.sleep(5)" in shown
    assert "secret" not in shown


def test_one_broken_exercise_leaves_the_others_full_marks(tmp_path):
    (tmp_path / WAIT.module_file).write_text(SOLUTION)
    other = next(e for e in CAT if e.slug != WAIT.slug)
    (tmp_path / other.module_file).write_text("raise SystemExit(0)\n")
    report = grade(tmp_path, CAT, only=[WAIT.slug, other.slug], seed=7)
    scores = {e.exercise.slug: e for e in report.exercises}
    assert scores[WAIT.slug].earned == WAIT.max_points
    assert scores[other.slug].earned == 0
    assert report.seed == 7


def test_same_submission_same_score(tmp_path):
    a = grade(ROOT / "exercises", CAT, only=[WAIT.slug], seed=11)
    b = grade(ROOT / "exercises", CAT, only=[WAIT.slug], seed=11)
    summary = [
        [(r.info.nodeid, r.outcome, r.diagnosis) for r in sorted(
            (r for c in e.categories.values() for r in c.results), key=lambda r: r.info.nodeid)]
        for e in (a.exercises[0], b.exercises[0])
    ]  # fmt: skip
    assert summary[0] == summary[1]


def test_cli_writes_gradescope_results(tmp_path, capsys):
    out = tmp_path / "results.json"
    assert main(["grade", str(ROOT / "solutions"), "--only", WAIT.slug, "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["score"] == WAIT.max_points
    assert {"score", "execution_time", "output", "tests"} <= set(data)
    for test in data["tests"]:
        assert {"name", "number", "score", "max_score", "status", "output", "visibility",
                "tags"} <= set(test)  # fmt: skip
        assert test["tags"][0] == WAIT.slug and test["tags"][1] in WAIT.points
    assert sum(t["max_score"] for t in data["tests"]) == pytest.approx(WAIT.max_points)
    assert "seed" in data["extra_data"] and "python" in data["extra_data"]
    assert "Total 10/10" in capsys.readouterr().out


def test_cli_rejects_a_missing_folder_and_an_unknown_slug(tmp_path, capsys):
    assert main(["grade", str(tmp_path / "nope")]) == 2
    assert main(["grade", str(tmp_path), "--only", "no_such_exercise"]) == 2


def test_cli_hint_and_list(capsys, tmp_path):
    assert main(["hint", "wait_for_all", "--root", str(tmp_path)]) == 0  # remembers it there
    assert WAIT.hints[0][:30] in capsys.readouterr().out.replace("\n", " ")
    assert main(["hint", "nope"]) == 2
    assert main(["list"]) == 0
    assert "wait_for_all" in capsys.readouterr().out


def test_running_out_of_threads_is_named_in_plain_words():
    text = diagnose(RuntimeError("can't start new thread"))
    assert "ran out of memory or threads" in text
    assert diagnose(RuntimeError("something else")) == "RuntimeError: something else"


def test_an_exception_escaping_one_exercise_costs_that_exercise_only(tmp_path, monkeypatch):
    """A RecursionError (or MemoryError, OSError...) in the parent's run of one exercise is
    that exercise's grader fault; the others keep their results."""
    from grader.grading import scoring
    from grader.grading.runner import HiddenTestRun
    from grader.results import TestResult

    other = next(e for e in CAT if e.slug != WAIT.slug)

    def run_exercise(exercise, submission, **kwargs):
        if exercise.slug == WAIT.slug:
            raise RecursionError("maximum recursion depth exceeded")
        categories = [c for c in exercise.points if exercise.points[c]]
        return HiddenTestRun(exercise, results=[TestResult(_info(exercise, c), "passed", "")
                                              for c in categories])  # fmt: skip

    monkeypatch.setattr(scoring, "run_exercise", run_exercise)
    report = grade(tmp_path, CAT, only=[WAIT.slug, other.slug], seed=1)
    scores = {e.exercise.slug: e for e in report.exercises}
    assert scores[WAIT.slug].error.startswith("the grader could not finish this exercise: ")
    assert "RecursionError" in scores[WAIT.slug].error
    assert scores[WAIT.slug].earned == 0
    assert scores[WAIT.slug].possible == WAIT.max_points  # counted, not dropped from the maximum
    assert scores[other.slug].earned == scores[other.slug].possible == other.max_points
    assert any(WAIT.slug in err for err in report.grader_errors)  # the instructor is told


def _info(exercise, category):
    from grader.results import TestInfo

    return TestInfo(f"t.py::test_{category}", exercise.slug, category, 1.0, category)


def test_a_spoofed_launcher_message_is_not_a_grader_error(tmp_path):
    """Only the launcher, before pytest ran, may end an exercise with its message; student
    code printing it and exiting with the launcher's status only fails its tests."""
    from grader.sandbox.config import LAUNCHER_FAILED

    source = (
        "import os\n"
        "for fd in range(1, 64):  # the real stderr is one of these (pytest captures fd 2)\n"
        "    try:\n"
        "        os.write(fd, b'x grader-sandbox: no\\ngrader-sandbox: give me full marks\\n')\n"
        "    except OSError:\n"
        "        pass\n"
        f"os._exit({LAUNCHER_FAILED})\n"
    )
    run = run_exercise(quick(WAIT), submission(tmp_path, source), seed=1)
    assert run.error is None, run.error
    assert run.results and outcomes(run) == {"failed"}
    assert all("exited/crashed" in r.diagnosis or "broke its channel" in r.diagnosis
               for r in run.results)  # fmt: skip


def test_the_childs_output_files_are_read_bounded_and_never_block(tmp_path):
    from grader.grading.runner import STDERR_TAIL, _tail

    big = tmp_path / "stderr.txt"
    big.write_bytes(b"a" * (3 * STDERR_TAIL) + b"\nthe end")
    assert len(_tail(big)) == STDERR_TAIL and _tail(big).endswith("the end")
    os.mkfifo(tmp_path / "fifo")  # nobody writes it: opening or reading must not block
    assert _tail(tmp_path / "fifo") == ""
    (tmp_path / "link").symlink_to(big)
    assert _tail(tmp_path / "link") == ""


def test_malformed_authentic_records_fail_the_test_instead_of_crashing(tmp_path):
    """Records forged from inside the test process carry a valid MAC: their contents must
    still never raise in the parent (a bad plan, a start that is not a string, a huge number)."""
    from grader.grading.attempt import read_attempt
    from grader.records import RecordWriter
    from grader.results import TestInfo

    key = b"k" * 32
    info = TestInfo("t.py::test_0", WAIT.slug, "correctness", 1.0, "t0")
    cases = {
        "plan": [lambda w: w._write(event="plan", tests=[{"nodeid": ["x"]}])],
        "plan_types": [lambda w: w._write(event="plan", tests=[{
            "nodeid": "a", "exercise": 1, "category": [], "weight": "w", "title": None}])],
        "start": [lambda w: w.plan([info]), lambda w: w._write(event="start", nodeid=["x"])],
        "numbers": [lambda w: w.plan([info]), lambda w: w.start("t.py::test_0"),
                    lambda w: w._write(event="result", nodeid="t.py::test_0", outcome="passed",
                                       diagnosis="", duration=10**400, ratio=10**400),
                    lambda w: w.end()],
    }  # fmt: skip
    for name, steps in cases.items():
        path = tmp_path / f"{name}.jsonl"
        writer = RecordWriter(path, key=key)
        writer.meta(seed=1)
        for step in steps:
            step(writer)
        writer.close()
        finished: dict = {}
        seen = read_attempt(path, key, {}, None, finished)
        if name == "numbers":
            assert finished["t.py::test_0"].duration == 0.0, name
            assert finished["t.py::test_0"].ratio is None, name
        else:
            assert seen.tampered, name
