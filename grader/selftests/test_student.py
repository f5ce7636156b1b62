"""The student's commands and failure messages: check (with the GitHub outputs), status,
hint, race, watch, reset, and the trimmed, plain-words failures of ``--progress``: one
exercise in focus, each shared failure once, the advice last, every suggested command
one that works."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from grader import catalogue as catalogue_mod
from grader import layout
from grader.cli import build_parser, main
from grader.release.student_pack import ROOT
from grader.student import ci as student_ci
from grader.student import failures, outcomes
from grader.student import state as student_state
from grader.student import summary as student_summary
from grader.student import watch as student_watch
from grader.student.state import exercise_status, load_state, remember

CAT = catalogue_mod.load()
AMDAHL = CAT.get("amdahl")  # its stub raises NotImplementedError: fast


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
    state = load_state(pack)
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
    assert "grader/harness/plugin.py" not in out and "_pytest" not in out
    assert "Next: 15_amdahl" in out and "tox -e hint -- amdahl" in out


def test_unknown_exercise(pack, capsys):
    assert main(["check", "nope", "--root", str(pack)]) == 2
    assert main(["watch", "nope", "--root", str(pack)]) == 2
    assert main(["reset", "nope", "--root", str(pack)]) == 2
    assert "no exercise 'nope'" in capsys.readouterr().err


def test_status_tells_not_started_edited_failing_and_solved(pack, monkeypatch, capsys):
    monkeypatch.setattr(student_state, "STUBS_DIR", ROOT / "exercises")
    cat = catalogue_mod.load()
    state = load_state(pack)
    assert exercise_status(pack, AMDAHL, state) == ("not started", "-")
    target = pack / "exercises" / AMDAHL.module_file
    target.write_text(target.read_text() + "\n# my work\n")
    assert exercise_status(pack, AMDAHL, state)[0] == "not run yet"
    report = {"tests": [{"exercise": "amdahl", "outcome": "failed", "message": "boom\nmore"}]}
    remember(pack, report)
    state = load_state(pack)
    assert exercise_status(pack, AMDAHL, state) == ("1 failing", "0/1")
    target.write_text(target.read_text() + "# more\n")
    assert exercise_status(pack, AMDAHL, state)[0] == "edited since last run"
    remember(pack, {"tests": [{"exercise": "amdahl", "outcome": "passed"}]})
    assert exercise_status(pack, AMDAHL, load_state(pack)) == ("solved", "1/1")
    (pack / "exercises" / cat.get("concepts").module_file).unlink()
    assert exercise_status(pack, cat.get("concepts"), state) == ("missing", "-")
    assert main(["status", "--root", str(pack)]) == 0
    out = capsys.readouterr().out
    assert "1 of 16 exercises solved" in out and "Next: 01_wait_for_all" in out


def test_reset_restores_the_stub_and_keeps_a_backup(pack, monkeypatch, capsys):
    target = pack / "exercises" / AMDAHL.module_file
    assert main(["reset", "amdahl", "--root", str(pack)]) == 2  # no pristine stubs here
    assert "student pack" in capsys.readouterr().err
    monkeypatch.setattr(student_state, "STUBS_DIR", ROOT / "exercises")
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
    assert load_state(pack)["amdahl"]["total"] > 0


def test_watch_stops_on_ctrl_c(pack, monkeypatch, capsys):
    def interrupt(_seconds: float) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(student_watch.time, "sleep", interrupt)
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
    assert failures.plain_message(AssertionError("expected 3\nassert 1 == 3")) == "expected 3"
    assert "no description" in failures.plain_message(AssertionError("assert x"))
    assert failures.plain_message(ValueError("bad")) == "ValueError: bad"
    assert failures.plain_message(ValueError()) == "ValueError"
    assert failures.plain_message(RuntimeError("x" * 50), limit=10).endswith("…")
    failed = type("Failed", (Exception,), {})
    assert failures.plain_message(failed("stop here")) == "stop here"


def test_student_frames_follow_the_cause(tmp_path):
    mine = tmp_path / "exercises" / "mine.py"
    mine.parent.mkdir()
    inner = _raise_in(mine, "def f():\n    raise KeyError('k')\nf()\n")
    try:
        raise AssertionError("the function raised KeyError") from inner
    except AssertionError as outer:
        frames = failures.student_frames(outer, mine.parent)
    assert [(f.name, f.lineno) for f in frames] == [("<module>", 3), ("f", 2)]
    assert failures.student_frames(ValueError("no traceback"), mine.parent) == []


def test_describe_failure_points_at_todo_without_student_frames(tmp_path):
    impl = tmp_path / "exercises"
    impl.mkdir()
    (impl / AMDAHL.module_file).write_text("x = 1\n# TODO: here\n")
    outcome = failures.describe_failure("t", AMDAHL, AssertionError("wrong"), impl, tmp_path)
    assert (outcome.file.endswith(AMDAHL.module_file), outcome.line) == (True, 2)
    assert "Look at" in failures.render_failure(outcome)
    assert failures.describe_failure("t", AMDAHL, None, impl, tmp_path).message == "failed"
    assert failures.todo_line(tmp_path / "missing.py") is None


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


# --- the loop: one exercise in focus, the advice last, accurate commands (issue 12) --------


def _tally(passed: int, failing: list[tuple[str, str]], ex) -> outcomes.Tally:
    tally = outcomes.Tally(passed=passed)
    for name, message in failing:
        outcome = outcomes.TestOutcome(
            nodeid=name, name=name, exercise=ex.slug, outcome="failed", message=message,
            file=f"exercises/{ex.module_file}", line=7,
        )  # fmt: skip
        tally.failed.append((name, message))
        tally.tests.append(outcome)
    return tally


def _render(tallies, **kwargs) -> tuple[str, str]:
    from rich.console import Console

    out = io.StringIO()
    console = Console(file=out, width=200, highlight=False)
    advice = student_summary.render_progress(list(CAT), tallies, console, **kwargs)
    console.print(advice)
    text = out.getvalue()
    return text, advice.plain


def test_progress_shows_only_the_first_unsolved_exercise_and_returns_the_advice():
    first, second, third = CAT.get("wait_for_all"), CAT.get("late_binding"), CAT.get("amdahl")
    tallies = {ex.slug: _tally(2, [], ex) for ex in CAT}
    tallies[second.slug] = _tally(1, [("test_b1", "boom b1"), ("test_b2", "boom b2")], second)
    tallies[third.slug] = _tally(0, [("test_c1", "boom c1")], third)
    text, advice = _render(tallies, commands=PACK, not_started=3)
    assert "boom b1" in text and "test_b2" in text  # the exercise in focus, every failure
    assert "test_c1" not in text and "boom c1" not in text  # nothing of the others
    assert first.slug not in text
    assert "14 of 16 exercises solved · 3 not started · visible tests 29/32" in text
    assert advice.startswith("Next: 02_late_binding") and text.rstrip().endswith(advice.rstrip())
    assert "tox -e check -- late_binding --tb=long" in text
    assert "tox -e check -- late_binding" in advice and "tox -e hint -- late_binding" in advice
    assert "Run `tox -e race`" in text


def test_one_failure_shared_by_every_test_is_shown_once():
    ex = CAT.get("amdahl")
    same = [(f"test_{i}", "15_amdahl.py has a syntax error on line 50: invalid syntax") for i in
            range(6)]  # fmt: skip
    text, _ = _render({ex.slug: _tally(0, same, ex)}, commands=PACK)
    body = text.split("Next:")[0]
    assert body.count("has a syntax error") == 1, body
    assert "the same failure in 5 more" in body


def test_race_mode_says_so_and_does_not_suggest_itself():
    ex = CAT.get("amdahl")
    text, advice = _render({ex.slug: _tally(0, [("t", "m")], ex)}, commands=PACK, race=True)
    assert "races amplified" in text and "tox -e race" not in text + advice


def PACK(ex) -> dict[str, str]:
    return {k: v.format(slug=ex.slug) for k, v in student_summary.PACK_COMMANDS.items()}


def test_the_plain_pytest_commands_that_messages_suggest_load_the_student_plugin(pack):
    """Outside the pack, messages suggest plain pytest; ``--progress`` is an option of the
    student plugin, so each suggested command must load it (or pytest refuses it)."""
    for key, command in student_summary.pytest_commands(AMDAHL).items():
        words = command.split()
        if words[0] != "pytest":
            continue
        cmd = [sys.executable, "-m", *words, "--collect-only", "-q", "-p", "no:cacheprovider"]
        proc = subprocess.run(cmd, cwd=pack, capture_output=True, text=True, check=False)
        assert proc.returncode == 0, (key, command, proc.stdout[-500:], proc.stderr[-500:])


# Imports every module of the pack's grader/, then names the grader modules loaded from
# elsewhere (this checkout's editable install resolves a module the pack lacks).
PACK_IMPORTS = """
import importlib, os, pkgutil, sys, grader
here = os.path.dirname(grader.__file__)
names = [m.name for m in pkgutil.walk_packages(grader.__path__, "grader.")]
for name in names:
    if not name.endswith("__main__"):
        importlib.import_module(name)
for name, module in sorted(sys.modules.items()):
    where = getattr(module, "__file__", None) or here
    if name.split(".")[0] == "grader" and not where.startswith(here + os.sep):
        print(name, where)
"""


def test_every_module_the_pack_ships_imports_with_only_the_pack(tmp_path):
    """The pack copies an allow-list of ``grader/``: a module that one of them imports but
    the list leaves out breaks every student command, so import each one from the pack."""
    from grader.release.student_pack import build

    out = build(tmp_path / "pack").out
    cmd = [sys.executable, "-c", PACK_IMPORTS]
    proc = subprocess.run(cmd, cwd=out, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert not proc.stdout.strip(), f"the pack lacks modules it imports:\n{proc.stdout}"


def test_the_pack_commands_that_messages_suggest_are_tox_envs_of_the_pack():
    import configparser

    ini = configparser.ConfigParser(interpolation=None)
    ini.read(layout.RELEASE_TEMPLATES / "tox.ini", encoding="utf-8")
    assert ini.sections(), "the student tox.ini template is missing"
    envs = {s.split(":", 1)[1] for s in ini.sections() if s.startswith("testenv:")}
    parser = build_parser()
    for key, command in PACK(CAT.get("amdahl")).items():
        words = command.split()
        if words == ["tox"]:
            continue
        assert words[:2] == ["tox", "-e"] and words[2] in envs, (key, command)
        section = ini[f"testenv:{words[2]}"]
        commands = section.get("commands") or ini["testenv"]["commands"]
        grader_args = commands.split()[3:]  # python -m grader X
        grader_args = [w for w in grader_args if w != "{posargs}"] + words[4:]
        parser.parse_args(grader_args)  # every suggested option exists


def test_check_ends_with_the_advice_and_lists_no_failure_twice(pack, capfd):
    assert main(["check", "amdahl", "--root", str(pack)]) == 1
    out = capfd.readouterr().out
    assert "short test summary" not in out and "FAILED tests/" not in out
    assert "=== FAILURES ===" not in out
    last = out.rstrip().splitlines()
    assert last[-1].strip() == "Stuck? A hint at a time: tox -e hint -- amdahl", last[-8:]
    assert "Next: 15_amdahl" in "\n".join(last[-6:])
    assert out.index("Next: 15_amdahl") > out.index(" failed")  # after pytest's counts too


def test_the_suggested_long_traceback_command_works(pack, capfd):
    assert main(["check", "amdahl", "--root", str(pack)]) == 1
    out = capfd.readouterr().out
    suggested = re.search(r"full traceback: tox -e check -- (.*)\)", out).group(1).split()
    assert suggested == ["amdahl", "--tb=long"]
    assert main(["check", *suggested, "--root", str(pack)]) == 1
    out = capfd.readouterr().out
    assert "FAILURES" in out and "raise NotImplementedError" in out  # pytest's own traceback
    assert out.rstrip().endswith("tox -e hint -- amdahl")


def test_a_syntax_error_is_reported_at_its_line_once(pack, capfd):
    target = pack / "exercises" / AMDAHL.module_file
    lines = ["x = 1"] * 49 + ["def broken(:"] + ["y = 2"] * 9 + ["# TODO: line 60"]
    target.write_text("\n".join(lines) + "\n")
    assert failures.todo_line(target) == 60
    assert main(["check", "amdahl", "--root", str(pack)]) == 1
    out = capfd.readouterr().out
    body = out.split("Next:")[0]
    assert f"Look at exercises/{AMDAHL.module_file}:50" in body
    assert body.count("syntax error on line 50") == 1, body
    assert f"Look at exercises/{AMDAHL.module_file}:50" in out.split("Next:")[1]


def test_a_test_file_that_does_not_import_is_shown(pack, capfd):
    (pack / "tests" / "test_broken.py").write_text("import nothing_here_at_all\n")
    assert main(["check", "--root", str(pack), "--pytest=-x"]) != 0
    captured = capfd.readouterr()
    assert "nothing_here_at_all" in captured.out and "did not run to the end" in captured.err


def test_race_says_it_is_on_and_its_replay_command_works(pack, capfd):
    assert main(["race", "amdahl", "--root", str(pack)]) == 1
    out = capfd.readouterr().out
    assert out.startswith("RACE DETECTOR ON: races are amplified")
    assert "races amplified" in out.split("RACE DETECTOR ON")[1]
    assert "tox -e race" not in out.split("\n\n", 1)[1]  # the banner alone says how to replay
    seed = re.search(r"to replay this run: tox -e race -- amdahl --race-seed (\d+)", out).group(1)
    assert main(["race", "amdahl", "--race-seed", seed, "--root", str(pack)]) == 1
    assert f"Seed {seed};" in capfd.readouterr().out
    assert load_state(pack)["amdahl"]["total"] > 0


def test_reset_makes_the_exercise_not_started_again(pack, monkeypatch, capsys):
    monkeypatch.setattr(student_state, "STUBS_DIR", ROOT / "exercises")
    target = pack / "exercises" / AMDAHL.module_file
    target.write_text(target.read_text() + "\n# my work\n")
    remember(pack, {"tests": [{"exercise": "amdahl", "outcome": "failed", "message": "x"}]})
    target.write_text(target.read_text() + "# more work\n")
    assert exercise_status(pack, AMDAHL, load_state(pack))[0].startswith("edited")
    assert main(["reset", "amdahl", "--root", str(pack)]) == 0
    assert "amdahl" not in load_state(pack)
    assert exercise_status(pack, AMDAHL, load_state(pack)) == ("not started", "-")
    # and an old entry for the stub's own hash does not make it "edited" either
    remember(pack, {"tests": [{"exercise": "amdahl", "outcome": "failed", "message": "x"}]})
    assert exercise_status(pack, AMDAHL, load_state(pack))[0] == "not started"
    capsys.readouterr()
    assert main(["status", "--root", str(pack)]) == 0
    assert "edited since last run" not in capsys.readouterr().out


def test_hints_come_one_at_a_time_and_all_with_all(pack, capsys):
    hints = AMDAHL.hints
    assert len(hints) >= 3
    for shown in range(1, len(hints) + 2):
        assert main(["hint", "amdahl", "--root", str(pack)]) == 0
        out = " ".join(capsys.readouterr().out.split())
        expected = min(shown, len(hints))
        for number, hint in enumerate(hints, 1):
            assert (f"{number}. {' '.join(hint.split())[:40]}" in out) == (number <= expected)
        if expected < len(hints):
            assert "The next one: tox -e hint -- amdahl" in out
            assert "All of them: tox -e hint -- amdahl --all" in out
        else:
            assert "That is every hint for amdahl." in out
    state = json.loads((pack / ".grader" / "hints.json").read_text())
    assert state == {"amdahl": len(hints)}
    (pack / ".grader" / "hints.json").unlink()
    assert main(["hint", "amdahl", "--all", "--root", str(pack)]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert all(" ".join(h.split())[:40] in out for h in hints)


# Malformed state files in the student's .grader/ (hand-edited, truncated, another version).
MALFORMED_STATE = [
    "",
    "{not json",
    "[1, 2]",
    '"a string"',
    '{"amdahl": 3}',
    '{"amdahl": {"hash": 5, "passed": "x"}}',
    '{"amdahl": {"hash": "h", "passed": 1}}',
    '{"amdahl": -4}',
    '{"amdahl": 99}',
    '{"amdahl": "2"}',
    '{"amdahl": true}',
    "\ud800".encode("utf-8", "surrogatepass").decode("latin-1"),
]


@pytest.mark.parametrize("content", MALFORMED_STATE)
def test_malformed_state_files_are_ignored(pack, content, capsys):
    grader_dir = pack / ".grader"
    grader_dir.mkdir(exist_ok=True)
    for name in ("state.json", "hints.json"):
        (grader_dir / name).write_text(content, encoding="latin-1")
    assert main(["status", "--root", str(pack)]) == 0
    assert main(["hint", "amdahl", "--root", str(pack)]) == 0
    out = capsys.readouterr().out
    assert "16 exercises" in out and "1." in out
    remember(pack, {"tests": [{"exercise": "amdahl", "outcome": "passed"}]})
    assert load_state(pack)["amdahl"]["passed"] == 1


def test_ci_passes_while_every_started_exercise_passes(pack, monkeypatch, capsys):
    junitparser = pytest.importorskip("junitparser")
    monkeypatch.setattr(student_state, "STUBS_DIR", ROOT / "exercises")
    summary = pack / "summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    argv = [
        "check",
        "amdahl",
        "--only-started",
        "--root",
        str(pack),
        "--junit",
        str(pack / "j.xml"),
    ]
    assert main(argv) == 0  # the untouched stub is not started
    out = capsys.readouterr().out
    assert "CI: passes (0 solved, 0 failing, 1 not started)" in out and "::error" not in out
    assert "| 15 | `amdahl` | ➖ not started |" in summary.read_text()
    assert "every exercise you have started passes" in summary.read_text()
    (suite,) = junitparser.JUnitXml.fromfile(str(pack / "j.xml"))
    assert suite.skipped == suite.tests > 0 and suite.failures == 0

    target = pack / "exercises" / AMDAHL.module_file
    target.write_text(target.read_text() + "\n# started\n")
    assert main(argv) == 1
    out = capsys.readouterr().out
    assert "CI: fails (0 solved, 1 failing, 0 not started)" in out and "::error file=" in out

    shutil.copy(ROOT / "solutions" / AMDAHL.module_file, target)
    assert main(argv) == 0
    assert "CI: passes (1 solved, 0 failing, 0 not started)" in capsys.readouterr().out
    assert main(argv[:2] + argv[3:]) == 0  # without --only-started too, once solved


def test_started_verdict_counts():
    report = {
        "tests": [
            {"exercise": "amdahl", "name": "a", "outcome": "failed", "message": "m"},
            {"exercise": "concepts", "name": "c", "outcome": "passed", "message": ""},
            {"exercise": "pipeline", "name": "p", "outcome": "failed", "message": "m"},
        ]
    }
    runs = student_ci.by_exercise(report, CAT, not_started={"amdahl"})
    verdict, ok = student_ci.started_verdict(runs)
    assert not ok and verdict.startswith("CI: fails (1 solved, 1 failing, 1 not started)")
    assert "pipeline" in verdict and "amdahl" not in verdict
    runs = student_ci.by_exercise(report, CAT, not_started={"amdahl", "pipeline"})
    assert student_ci.started_verdict(runs)[1]
    assert not student_ci.annotations(runs)
    assert "➖ not started" in student_ci.summary_markdown(runs)
