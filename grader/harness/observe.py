"""Run student code under a watchdog and hygiene checks.

``observe(fn, *args)`` calls ``fn`` and reports, besides its value or
exception: how long it took, whether it hung (with every thread's stack),
which threads it left running, which exceptions escaped to
``threading.excepthook``, what it wrote to ``sys.stderr`` and which warnings it
raised. It never raises on the student's behalf: tests decide what matters.
"""

from __future__ import annotations

import contextlib
import io
import multiprocessing
import sys
import threading
import time
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

_clock = time.perf_counter
_sleep = time.sleep

#: Set once a watched call hung: its threads may never end, so the pytest
#: plugin exits hard at the end of the session instead of waiting for them.
hung_threads_left = False


class Hang(Exception):
    """The watched call did not return in time."""


@dataclass
class Observation:
    """Everything seen while one call to student code ran."""

    value: Any = None
    error: BaseException | None = None
    elapsed: float = 0.0
    hung: bool = False
    stacks: str = ""
    leftover_threads: list[str] = field(default_factory=list)
    leftover_processes: list[str] = field(default_factory=list)
    thread_exceptions: list[str] = field(default_factory=list)
    stderr: str = ""
    warnings: list[str] = field(default_factory=list)

    def result(self) -> Any:
        """The call's value; re-raises its exception, or :class:`Hang`."""
        if self.hung:
            raise Hang(self.hang_message())
        if self.error is not None:
            raise self.error
        return self.value

    def hang_message(self) -> str:
        return f"did not return within the time limit (hang or deadlock?)\n{self.stacks}"


def thread_stacks(skip: set[int] | None = None, only_under: str | None = None) -> str:
    """Every live thread's stack, innermost call last, as one string.

    With ``only_under``, frames from files outside that folder are left out:
    feedback shows the student's own code, never the grader's or hidden tests'.
    """
    names = {t.ident: t.name for t in threading.enumerate()}
    parts = []
    for ident, frame in sys._current_frames().items():
        if skip and ident in skip:
            continue
        frames = traceback.extract_stack(frame)
        if only_under is not None:
            frames = traceback.StackSummary.from_list(
                [f for f in frames if f.filename.startswith(only_under)]
            )
        stack = "".join(frames.format()) or "  (no frame in the submission's code)\n"
        parts.append(f"--- thread {names.get(ident, ident)} ---\n{stack}")
    return "\n".join(parts)


def _describe_thread(t: threading.Thread) -> str:
    kind = "daemon " if t.daemon else ""
    return f"{kind}thread {t.name!r}"


def observe(
    fn: Callable[..., Any],
    *args: Any,
    timeout: float = 10.0,
    grace: float = 0.5,
    student_root: str | None = None,
    **kwargs: Any,
) -> Observation:
    """Call ``fn(*args, **kwargs)`` in a watched thread and report what happened.

    ``grace`` is how long threads started by the call may take to finish
    exiting after it returned: code that waits on a counter (like Go's
    WaitGroup) rather than ``join()`` returns microseconds before its threads
    are gone, and that is correct.
    """
    global hung_threads_left
    obs = Observation()
    before_threads = set(threading.enumerate())
    before_procs = set(multiprocessing.active_children())
    escaped: list[str] = []
    stderr = io.StringIO()

    def record_hook(args: threading.ExceptHookArgs) -> None:
        name = args.thread.name if args.thread else "?"
        escaped.append(f"{args.exc_type.__name__}: {args.exc_value} (in thread {name!r})")

    def target() -> None:
        start = _clock()
        try:
            obs.value = fn(*args, **kwargs)
        except BaseException as exc:
            obs.error = exc
        finally:
            obs.elapsed = _clock() - start

    runner = threading.Thread(target=target, name="grader-watched-call", daemon=True)
    saved_hook = threading.excepthook
    threading.excepthook = record_hook
    try:
        with contextlib.redirect_stderr(stderr), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            runner.start()
            runner.join(timeout)
            if runner.is_alive():
                obs.hung = True
                obs.elapsed = timeout
                obs.stacks = thread_stacks(skip={threading.get_ident()}, only_under=student_root)
                hung_threads_left = True
                return obs
            _wait_for_threads(before_threads | {runner}, grace)
            obs.warnings = [f"{w.category.__name__}: {w.message}" for w in caught]
    finally:
        threading.excepthook = saved_hook
        obs.stderr = stderr.getvalue()
        obs.thread_exceptions = escaped
    obs.leftover_threads = [
        _describe_thread(t) for t in threading.enumerate() if t not in before_threads | {runner}
    ]
    obs.leftover_processes = [
        f"process {p.name!r} (pid {p.pid})"
        for p in multiprocessing.active_children()
        if p not in before_procs
    ]
    return obs


def _wait_for_threads(known: set[threading.Thread], grace: float) -> None:
    deadline = _clock() + grace
    while _clock() < deadline:
        new = [t for t in threading.enumerate() if t not in known]
        if not new:
            return
        for t in new:
            try:
                t.join(max(0.0, deadline - _clock()))
            except RuntimeError:  # still starting (e.g. spawned by an earlier hung call)
                _sleep(0.001)
