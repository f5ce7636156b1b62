"""Isolation in ``grader grade``: a broken or hanging exercise costs that exercise only."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import pytest

from grader import catalogue as catalogue_mod
from grader.cli import main
from grader.diagnosis import diagnose
from grader.runner import run_exercise, student_frames
from grader.scoring import grade, score_exercise
from grader.selftests.devcheck import ROOT

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
    assert all("exited/crashed" in r.diagnosis for r in run.results)
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
    assert all("process exited/crashed" in r.diagnosis for r in failed)
    assert len(failed) <= 2 and len(run.results) - len(failed) >= len(run.results) - 2


def test_student_frames_are_the_only_frames_shown(tmp_path):
    dump = (
        f'  File "{tmp_path}/01_wait_for_all.py", line 3, in fetch_all\n    time.sleep(5)\n'
        '  File "/secret/hidden/test_01.py", line 9, in test_x\n    assert secret\n'
    )
    shown = student_frames(dump, tmp_path)
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


def test_cli_hint_and_list(capsys):
    assert main(["hint", "wait_for_all"]) == 0
    assert WAIT.hints[0][:30] in capsys.readouterr().out.replace("\n", " ")
    assert main(["hint", "nope"]) == 2
    assert main(["list"]) == 0
    assert "wait_for_all" in capsys.readouterr().out


def test_running_out_of_threads_is_named_in_plain_words():
    text = diagnose(RuntimeError("can't start new thread"))
    assert "ran out of memory or threads" in text
    assert diagnose(RuntimeError("something else")) == "RuntimeError: something else"
