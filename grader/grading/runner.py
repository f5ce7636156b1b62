"""Run one exercise's hidden tests against a submission, in an isolated child process.

The child is ``pytest`` on a private copy of ``grader/hidden/test_NN_slug.py``
with ``--impl`` pointing at a fresh copy of the one graded module, started
under :mod:`grader.sandbox` (namespaces, limits, another uid when root). It
streams authenticated records (see :mod:`grader.records`) under a key it
reads from a pipe; the parent keeps only records with a valid MAC, in order:
the plan (written before any student code is loaded) fixes the test ids, and
each result must follow the ``start`` of the same test (the command line is
:mod:`grader.grading.command`'s, the records are read by
:mod:`grader.grading.attempt`). If the child dies (a
crash, ``os._exit``, a per-test timeout from pytest-timeout), the test it was
running is failed with a plain diagnosis and a new child runs the tests that
had not started yet, so one bad test costs only itself. A wall-clock limit
per exercise kills the child's whole process tree.

The child runs with ``--tb=no``: diagnoses come from the exception itself,
and pytest's source lookup for a traceback (a ``realpath`` per loaded module)
crawls while a spinning student thread holds the GIL, long enough to turn a
diagnosed hang into a timeout. Its stdout shares the stderr file, since
pytest-timeout writes its stack dumps to stdout.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import stat
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from grader import layout
from grader.catalogue import Exercise
from grader.grading.attempt import FORGED, read_attempt
from grader.grading.command import hidden_test_command
from grader.grading.isolation import isolation as catalogue_isolation
from grader.harness import tamper
from grader.records import KEY_BYTES
from grader.results import TestInfo, TestResult
from grader.sandbox.config import LAUNCHER_FAILED, Isolation, base_env
from grader.sandbox.probe import Capabilities, capabilities
from grader.sandbox.stage import Stage

STDERR_TAIL = 256 * 1024
_clock = time.perf_counter


@dataclass
class HiddenTestRun:
    """What the hidden tests of one exercise found."""

    exercise: Exercise
    results: list[TestResult] = field(default_factory=list)
    meta: dict = field(default_factory=dict)
    error: str | None = None  # the run itself failed (grader fault), not a test
    elapsed: float = 0.0
    notices: list[str] = field(default_factory=list)


def _kill_group(proc: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def _stop(proc: subprocess.Popen, grace: float = 3.0) -> None:
    """Out of time: the supervisor kills its whole tree (daemons too), then the group dies."""
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=grace)
    _kill_group(proc)


def _tail(path: Path, limit: int = STDERR_TAIL) -> str:
    """The last ``limit`` bytes of a file the child wrote (a regular file only), as text."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return ""
    with os.fdopen(fd, "rb") as fh:
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return ""
            fh.seek(max(0, os.fstat(fd).st_size - limit))
            return fh.read(limit).decode("utf-8", errors="replace")
        except OSError:
            return ""


_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+), in (?P<fn>.+)$')


def submission_frames_in_dump(dump: str, submission: Path, limit: int = 6) -> str:
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
    if returncode == tamper.EXIT_STATUS:
        names = [x for x in stderr.splitlines() if x.startswith(tamper.STDERR_PREFIX)]
        what = names[-1].removeprefix(tamper.STDERR_PREFIX)[:200] if names else "?"
        return f"the submission patched the grader or the standard library ({what})"
    if "Timeout" in stderr and "+++" in stderr:
        where = submission_frames_in_dump(stderr, sub)
        text = f"timed out after {exercise.test_timeout:g}s (a hang or a deadlock?)"
        return f"{text}; your code was at: {where}" if where else text
    code = (
        "killed by a signal" if returncode is not None and returncode < 0 else f"exit {returncode}"
    )
    return f"no result (process exited/crashed, {code})"


def _launcher_failure(stderr: str) -> str | None:
    """The launcher's own message, if it could not set up the sandbox."""
    line = next((x for x in stderr.splitlines() if x.startswith("grader-sandbox:")), None)
    return line.removeprefix("grader-sandbox: ")[:300] if line else None


def _time_limit(exercise: Exercise) -> str:
    return f"the exercise's time limit of {exercise.exercise_timeout:g}s ran out"


def run_exercise(
    exercise: Exercise,
    submission: Path,
    *,
    seed: int,
    python: str = sys.executable,
    isolation: Isolation | None = None,
) -> HiddenTestRun:
    """Grade one exercise of ``submission`` with its hidden tests."""
    isolation = isolation or catalogue_isolation()
    caps = capabilities(python) if isolation.enabled else None
    run = HiddenTestRun(exercise)
    started = _clock()
    try:
        stage = Stage(
            exercise.slug,
            exercise.module_file,
            Path(submission),
            isolation,
            caps or _NO_CAPS,
            private_files=[layout.HIDDEN / exercise.test_file, layout.HIDDEN / "pytest.ini"],
            secrets=layout.SECRET_FOLDERS,
        )
    except (OSError, RuntimeError) as exc:
        run.error = f"the sandbox could not be prepared ({exc})"
        return run
    if caps is not None:
        run.notices = caps.notices()
    try:
        _run_attempts(run, stage, Path(submission).resolve(), seed, python, started)
    finally:
        stage.close()
    run.elapsed = _clock() - started
    return run


#: What the subject runs, imported before it enters the sandbox (grader.sandbox.entry).
SUBJECT_MODULES = (
    "grader.subject.runtime", "grader.subject.main", "grader.wire.codec", "grader.amplifier",
)  # fmt: skip


def _subject_recipe(
    stage: Stage, exercise: Exercise, work: Path, seed: int, python: str, attempt: int
) -> Path:
    """How the judge starts its subject (see :mod:`grader.grading.judge.fixtures`)."""
    isolated = stage.isolation.enabled
    recipe = {
        "module": str(work / exercise.module_file),
        "name": exercise.slug,
        "python": python,
        "wrap": stage.entered(python, preload=SUBJECT_MODULES) if isolated else None,
        "env": stage.env(seed, work) if isolated else base_env(seed),
        "cwd": str(work),
    }
    path = stage.private / f"subject-{attempt}.json"
    path.write_text(json.dumps(recipe))
    return path


_NO_CAPS = Capabilities(root=False, netns=False, userns=False, mountns=False)


def _run_attempts(
    run: HiddenTestRun, stage: Stage, submission: Path, seed: int, python: str, started
) -> None:
    exercise = run.exercise
    deadline = started + exercise.exercise_timeout
    plan: dict[str, TestInfo] = {}
    finished: dict[str, TestResult] = {}
    pending: list[str] | None = None  # None: the whole file (first attempt)
    fruitless = 0  # attempts in a row that died on their first test
    isolated = stage.isolation.enabled
    for attempt in range(1000):
        results = stage.private / f"results-{attempt}.jsonl"
        stderr_path = stage.private / f"stderr-{attempt}.txt"
        work = stage.work(attempt) if isolated else submission
        key = os.urandom(KEY_BYTES)
        key_read, key_write = os.pipe()
        os.write(key_write, key)
        os.close(key_write)
        # The tests stay here, in the judge; only the subject enters the sandbox.
        recipe = _subject_recipe(stage, exercise, work, seed, python, attempt)
        cmd = hidden_test_command(
            exercise, work, results, seed, recipe, pending, python,
            hidden_dir=stage.hidden, key_fd=key_read,
        )  # fmt: skip
        cwd, env = stage.root, base_env(seed)
        try:
            with open(stderr_path, "wb") as err:
                proc = subprocess.Popen(
                    cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=err, stderr=err,
                    start_new_session=True, pass_fds=(key_read,),
                )  # fmt: skip
        finally:
            os.close(key_read)
        try:
            proc.wait(timeout=max(1.0, deadline - _clock()))
        except subprocess.TimeoutExpired:
            _stop(proc)
        finally:
            _kill_group(proc)
            stage.after_attempt()
        stderr = _tail(stderr_path)
        expected = None if pending is None else set(pending)
        seen = read_attempt(results, key, plan, expected, finished)
        run.meta = run.meta or seen.meta
        failed = _launcher_failure(stderr) if isolated and not seen.records else None
        if failed and proc.returncode == LAUNCHER_FAILED:
            run.error = failed  # the sandbox itself, before pytest (and student code) ran
            return
        if not plan:
            tail = stderr.strip().splitlines()[-1:] or ["no output"]
            run.error = f"the hidden tests could not be collected ({tail[0][:200]})"
            return
        out_of_time = _clock() >= deadline
        for nodeid in seen.started:
            if nodeid not in finished:
                if out_of_time:
                    diagnosis = f"no result: {_time_limit(exercise)}"
                elif seen.tampered:
                    diagnosis = FORGED
                else:
                    diagnosis = _lost_diagnosis(stderr, proc.returncode, exercise, work)
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
        fruitless = fruitless + 1 if not any(n in finished for n in seen.started[1:]) else 0
        if fruitless >= 3 or not seen.started:
            # The child keeps dying on the first test it starts (e.g. os._exit at
            # import): the rest would only repeat it, one start-up each.
            reason = _lost_diagnosis(stderr, proc.returncode, exercise, work)
            for nodeid in pending:
                finished[nodeid] = TestResult(
                    plan[nodeid], "failed", f"not run: every attempt died at once ({reason})"
                )
            break
    run.results = [finished[n] for n in plan if n in finished]
