"""Run one exercise's hidden tests against a submission, in an isolated child process.

The child is ``pytest`` on a private copy of ``grader/hidden/test_NN_slug.py``
with ``--impl`` pointing at a fresh copy of the one graded module, started
under :mod:`grader.sandbox` (namespaces, limits, another uid when root). It
streams authenticated records (see :mod:`grader.records`) under a key it
reads from a pipe; the parent keeps only records with a valid MAC, in order:
the plan (written before any student code is loaded) fixes the test ids, and
each result must follow the ``start`` of the same test. If the child dies (a
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
import os
import re
import signal
import stat
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from grader import sandbox, tamper
from grader.catalogue import Exercise
from grader.records import KEY_BYTES, TestInfo, TestResult, verified_records

HIDDEN_DIR = sandbox.HIDDEN_DIR
PACKAGE_PARENT = sandbox.PACKAGE_PARENT
OUTCOMES = ("passed", "failed", "error", "ungradable")
STDERR_TAIL = 256 * 1024
_clock = time.perf_counter


@dataclass
class ExerciseRun:
    """What the hidden tests of one exercise found."""

    exercise: Exercise
    results: list[TestResult] = field(default_factory=list)
    meta: dict = field(default_factory=dict)
    error: str | None = None  # the run itself failed (grader fault), not a test
    elapsed: float = 0.0
    notices: list[str] = field(default_factory=list)


def _child_env(seed: int | None = None) -> dict[str, str]:
    """The scrubbed environment of every child pytest (see :func:`grader.sandbox.base_env`)."""
    return sandbox.base_env(seed)


def pytest_command(
    exercise: Exercise,
    submission: Path,
    results: Path,
    seed: int,
    node_ids: list[str] | None,
    python: str = sys.executable,
    *,
    hidden_dir: Path = HIDDEN_DIR,
    key_fd: int | None = None,
    drop: tuple[int, int] | None = None,
    hide: Path | None = None,
) -> list[str]:
    hidden = hidden_dir / exercise.test_file
    targets = [str(hidden_dir / n) for n in node_ids] if node_ids else [str(hidden)]
    cmd = [
        python, "-P", "-m", "pytest", *targets,
        "-p", "grader.plugin", "-p", "pytest_timeout",
        "-p", "no:cacheprovider", "--noconftest", "-q", "--color=no", "--tb=no",
        "--rootdir", str(hidden_dir), "-c", str(hidden_dir / "pytest.ini"),
        f"--timeout={exercise.test_timeout:g}", "--timeout-method=thread",
        "--impl", str(submission), "--grader-results", str(results),
        "--race-seed", str(seed),
    ]  # fmt: skip
    if key_fd is not None:
        cmd += ["--grader-key-fd", str(key_fd)]
    if drop is not None:
        cmd += ["--grader-drop", f"{drop[0]}:{drop[1]}"]
    if hide is not None:
        cmd += ["--grader-hide", str(hide)]
    return cmd


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
    if returncode == tamper.EXIT_STATUS:
        names = [x for x in stderr.splitlines() if x.startswith(tamper.STDERR_PREFIX)]
        what = names[-1].removeprefix(tamper.STDERR_PREFIX)[:200] if names else "?"
        return f"the submission patched the grader or the standard library ({what})"
    if "Timeout" in stderr and "+++" in stderr:
        where = student_frames(stderr, sub)
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
    isolation: sandbox.Isolation | None = None,
) -> ExerciseRun:
    """Grade one exercise of ``submission`` with its hidden tests."""
    isolation = isolation or sandbox.Isolation.from_catalogue()
    caps = sandbox.capabilities(python) if isolation.enabled else None
    run = ExerciseRun(exercise)
    started = _clock()
    try:
        stage = sandbox.Stage(exercise, Path(submission), isolation, caps or _NO_CAPS)
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


_NO_CAPS = sandbox.Capabilities(root=False, netns=False, userns=False, mountns=False)


@dataclass
class _Attempt:
    """What one child's authentic records say."""

    started: list[str] = field(default_factory=list)
    tampered: bool = False
    records: int = 0  # authentic records: none means no student code ran in this child


def _plan_of(tests: object) -> dict[str, TestInfo] | None:
    """The plan record's tests, or None if it is malformed (it is authentic: a forgery from
    inside the test process, or a bug)."""
    if not isinstance(tests, list):
        return None
    plan = {}
    for t in tests:
        try:
            info = TestInfo(**t)
        except TypeError:  # not a mapping, or missing/unknown fields
            return None
        texts = (info.nodeid, info.title, info.exercise or "", info.category or "")
        if not all(isinstance(x, str) for x in texts) or not _is_number(info.weight):
            return None
        plan[info.nodeid] = info
    return plan


def _is_number(value: object) -> bool:
    return (
        isinstance(value, int | float) and not isinstance(value, bool) and (-1e300 < value < 1e300)
    )


FORGED = "no result (process exited/crashed; its result stream was forged)"


def _read_attempt(
    run: ExerciseRun,
    path: Path,
    key: bytes,
    plan: dict[str, TestInfo],
    expected: set[str] | None,
    finished: dict[str, TestResult],
) -> _Attempt:
    """Apply one child's verified records: the plan first, then start/result pairs in order.

    A result counts only once it is confirmed: by the ``start`` of the next
    test or the session's ``end``. Anything out of order (a second result, a
    result for another test, a start out of the plan) stops the reading; the
    test then running, and an unconfirmed result, are failed.
    """
    records, _rejected = verified_records(path, key)
    seen = _Attempt(records=len(records))
    current: str | None = None
    provisional: TestResult | None = None
    allowed = expected if expected is not None else None
    for rec in records:
        event = rec.get("event")
        if event == "meta" and not seen.started:
            run.meta = run.meta or {k: v for k, v in rec.items() if k not in ("event", "seq")}
        elif event == "plan" and not seen.started:
            if not plan and expected is None:
                tests = _plan_of(rec.get("tests"))
                if tests is None:
                    seen.tampered = True
                    break
                plan.update(tests)
        elif event == "start" and current is None:
            nodeid = rec.get("nodeid")
            if not isinstance(nodeid, str):
                seen.tampered = True
                break
            if nodeid not in (allowed if allowed is not None else plan) or nodeid in finished:
                seen.tampered = True
                break
            if provisional is not None:
                finished[provisional.info.nodeid] = provisional
                provisional = None
            if nodeid in seen.started:
                seen.tampered = True
                break
            current = nodeid
            seen.started.append(nodeid)
        elif event == "result" and current is not None and rec.get("nodeid") == current:
            outcome, diagnosis = rec.get("outcome"), rec.get("diagnosis")
            duration = rec.get("duration")
            if outcome not in OUTCOMES or not isinstance(diagnosis, str):
                seen.tampered = True
                break
            if not _is_number(duration):
                duration = 0.0
            ratio = rec.get("ratio")
            ratio = float(ratio) if _is_number(ratio) else None
            provisional = TestResult(plan[current], outcome, diagnosis, float(duration), ratio)
            current = None
        elif event == "end" and current is None:
            if provisional is not None:
                finished[provisional.info.nodeid] = provisional
                provisional = None
        else:  # out of order: nothing after this point is trusted
            seen.tampered = True
            break
    if provisional is not None:
        nodeid = provisional.info.nodeid
        if seen.tampered:
            finished[nodeid] = TestResult(plan[nodeid], "failed", FORGED)
        # else: unconfirmed (the process died right after it); the caller fails it as lost
    return seen


def _run_attempts(
    run: ExerciseRun, stage: sandbox.Stage, submission: Path, seed: int, python: str, started
) -> None:
    exercise = stage.exercise
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
        cmd = pytest_command(
            exercise, work, results, seed, pending, python,
            hidden_dir=stage.hidden, key_fd=key_read, drop=stage.drop, hide=stage.hide,
        )  # fmt: skip
        if isolated:
            cmd = stage.wrap(cmd, python)
        try:
            with open(stderr_path, "wb") as err:
                proc = subprocess.Popen(
                    cmd, cwd=work if isolated else stage.root,
                    env=stage.env(seed, work) if isolated else sandbox.base_env(seed),
                    stdin=subprocess.DEVNULL, stdout=err, stderr=err,
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
        seen = _read_attempt(run, results, key, plan, expected, finished)
        failed = _launcher_failure(stderr) if isolated and not seen.records else None
        if failed and proc.returncode == sandbox.LAUNCHER_FAILED:
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
