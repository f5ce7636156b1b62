"""Run one exercise's hidden tests against a submission, in a child process.

The child is ``pytest`` on ``grader/hidden/test_NN_slug.py`` with ``--impl``
pointing at the submission. It streams records (see :mod:`grader.records`).
If it dies (a crash, ``os._exit``, a per-test timeout from pytest-timeout),
the test it was running is failed with a plain diagnosis and a new child runs
the tests that had not started yet, so one bad test costs only itself. A
wall-clock limit per exercise kills the child's whole process group.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import grader
from grader.catalogue import Exercise
from grader.records import TestInfo, TestResult, read_records

HIDDEN_DIR = Path(__file__).with_name("hidden")
PACKAGE_PARENT = Path(grader.__file__).resolve().parent.parent
_clock = time.perf_counter


@dataclass
class ExerciseRun:
    """What the hidden tests of one exercise found."""

    exercise: Exercise
    results: list[TestResult] = field(default_factory=list)
    meta: dict = field(default_factory=dict)
    error: str | None = None  # the run itself failed (grader fault), not a test
    elapsed: float = 0.0


def _child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # only our plugin and pytest-timeout
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTHONPATH"] = str(PACKAGE_PARENT)
    env.pop("PYTHONSTARTUP", None)
    return env


def pytest_command(
    exercise: Exercise,
    submission: Path,
    results: Path,
    seed: int,
    node_ids: list[str] | None,
    python: str = sys.executable,
) -> list[str]:
    hidden = HIDDEN_DIR / exercise.test_file
    targets = [str(HIDDEN_DIR / n) for n in node_ids] if node_ids else [str(hidden)]
    return [
        python, "-m", "pytest", *targets,
        "-p", "grader.plugin", "-p", "pytest_timeout",
        "-p", "no:cacheprovider", "--noconftest", "-q", "--color=no",
        "--rootdir", str(HIDDEN_DIR), "-c", str(HIDDEN_DIR / "pytest.ini"),
        f"--timeout={exercise.test_timeout:g}", "--timeout-method=thread",
        "--impl", str(submission), "--grader-results", str(results),
        "--race-seed", str(seed),
    ]  # fmt: skip


def _kill_group(proc: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+), in (?P<fn>.+)$')


def student_frames(dump: str, submission: Path, limit: int = 6) -> str:
    """The stack frames of a pytest-timeout dump that point into the submission."""
    root = str(submission.resolve())
    lines = dump.splitlines()
    shown = []
    for i, line in enumerate(lines):
        m = _FRAME.match(line)
        if m and m["file"].startswith(root):
            code = lines[i + 1].strip() if i + 1 < len(lines) else ""
            shown.append(f"{Path(m['file']).name}:{m['line']} in {m['fn']}: {code}")
    return "; ".join(shown[-limit:])


def _lost_diagnosis(stderr: str, returncode: int | None, exercise: Exercise, sub: Path) -> str:
    if "Timeout" in stderr and "+++" in stderr:
        where = student_frames(stderr, sub)
        text = f"timed out after {exercise.test_timeout:g}s (a hang or a deadlock?)"
        return f"{text}; your code was at: {where}" if where else text
    code = (
        "killed by a signal" if returncode is not None and returncode < 0 else f"exit {returncode}"
    )
    return f"no result (process exited/crashed, {code})"


def _time_limit(exercise: Exercise) -> str:
    return f"the exercise's time limit of {exercise.exercise_timeout:g}s ran out"


def run_exercise(
    exercise: Exercise, submission: Path, *, seed: int, python: str = sys.executable
) -> ExerciseRun:
    """Grade one exercise of ``submission`` with its hidden tests."""
    run = ExerciseRun(exercise)
    started = _clock()
    deadline = started + exercise.exercise_timeout
    plan: dict[str, TestInfo] = {}
    finished: dict[str, TestResult] = {}
    pending: list[str] | None = None  # None: the whole file (first attempt)
    fruitless = 0  # attempts in a row that died on their first test
    with tempfile.TemporaryDirectory(prefix=f"grade-{exercise.slug}-") as tmp:
        for attempt in range(1000):
            results = Path(tmp) / f"results-{attempt}.jsonl"
            stderr_path = Path(tmp) / f"stderr-{attempt}.txt"
            cmd = pytest_command(exercise, submission, results, seed, pending, python)
            with open(stderr_path, "wb") as err:
                proc = subprocess.Popen(
                    cmd, cwd=tmp, env=_child_env(), stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL, stderr=err, start_new_session=True,
                )  # fmt: skip
                try:
                    proc.wait(timeout=max(1.0, deadline - _clock()))
                except subprocess.TimeoutExpired:
                    pass
                finally:
                    _kill_group(proc)
            records = read_records(results)
            stderr = stderr_path.read_text(errors="replace")
            started_ids = []
            for rec in records:
                if rec["event"] == "meta":
                    run.meta = {k: v for k, v in rec.items() if k != "event"}
                elif rec["event"] == "plan" and not plan:
                    plan = {t["nodeid"]: TestInfo(**t) for t in rec["tests"]}
                elif rec["event"] == "start":
                    started_ids.append(rec["nodeid"])
                elif rec["event"] == "result" and rec["nodeid"] in plan:
                    info = plan[rec["nodeid"]]
                    finished[info.nodeid] = TestResult(
                        info, rec["outcome"], rec["diagnosis"], rec["duration"]
                    )
            if not plan:
                tail = stderr.strip().splitlines()[-1:] or ["no output"]
                run.error = f"the hidden tests could not be collected ({tail[0][:200]})"
                break
            out_of_time = _clock() >= deadline
            for nodeid in started_ids:
                if nodeid not in finished:
                    diagnosis = (
                        f"no result: {_time_limit(exercise)}"
                        if out_of_time
                        else _lost_diagnosis(stderr, proc.returncode, exercise, submission)
                    )
                    finished[nodeid] = TestResult(plan[nodeid], "failed", diagnosis)
            pending = [n for n in plan if n not in finished]
            if not pending:
                break
            if out_of_time:
                for nodeid in pending:
                    finished[nodeid] = TestResult(
                        plan[nodeid], "failed",
                        f"not run: {_time_limit(exercise)}",
                    )  # fmt: skip
                break
            fruitless = fruitless + 1 if not any(n in finished for n in started_ids[1:]) else 0
            if fruitless >= 3 or not started_ids:
                # The child keeps dying on the first test it starts (e.g. os._exit at
                # import): the rest would only repeat it, one start-up each.
                reason = _lost_diagnosis(stderr, proc.returncode, exercise, submission)
                for nodeid in pending:
                    finished[nodeid] = TestResult(
                        plan[nodeid], "failed", f"not run: every attempt died at once ({reason})"
                    )
                break
    run.results = [finished[n] for n in plan if n in finished]
    run.elapsed = _clock() - started
    return run
