"""Lanes of calls run together: one thread per lane, released by one barrier.

The subject's op ``lanes`` and the in-process ``grader.harness.together`` both run here: each
lane runs its calls in turn and stops at its first exception; the calls are looked up before
the release, so a lane runs nothing of the runtime's between two of its calls.

``inside()`` tells how many lane threads of the runs going on now are inside a call (a frame
deeper than the lane's own) or done: a test's callable called by one lane can wait until
every other lane has really entered student code, not just been released.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import Any

MAX_LANES = 256  # threads of one ``lanes`` request

Call = tuple[Callable[..., Any], list[Any], dict[str, Any]]

_clock = time.perf_counter  # taken at import, before any student code runs
_WAITING, _CALLING, _DONE = 0, 1, 2


class Run:
    """One run of lanes: each lane's results (None if it raised) and exception (``described``),
    when the barrier released them, and where each lane's thread is."""

    def __init__(self, size: int) -> None:
        self.results: list[list[Any] | None] = [None] * size
        self.errors: list[Any] = [None] * size
        self.released: float | None = None
        self.idents: list[int | None] = [None] * size
        self.states = [_WAITING] * size

    def inside(self, frames: dict[int, Any]) -> int:
        """Lanes done, or calling with a frame above the lane's own (in student code)."""
        count = 0
        for ident, state in zip(self.idents, self.states, strict=True):
            if state == _DONE:
                count += 1
            elif state == _CALLING and ident is not None:
                frame = frames.get(ident)
                count += frame is not None and frame.f_code is not _lane.__code__
        return count


_lock = threading.Lock()
_running: list[Run] = []


def _lane(
    run: Run,
    i: int,
    calls: list[Call],
    barrier: threading.Barrier,
    described: Callable[[BaseException], Any],
) -> None:
    done: list[Any] = []
    try:
        barrier.wait()
        run.idents[i] = threading.get_ident()
        for function, args, kwargs in calls:
            run.states[i] = _CALLING
            done.append(function(*args, **kwargs))
    except BaseException as exc:  # the first lane's is raised where the lanes were asked for
        run.errors[i] = described(exc)
    else:
        run.results[i] = done
    finally:
        run.states[i] = _DONE


def run_lanes(
    lanes: list[list[Call]],
    start: Callable[..., threading.Thread],
    described: Callable[[BaseException], Any],
) -> Run:
    """Run the lanes (``start(target, name, *args)`` starts a thread) and wait for them all."""
    if not 1 <= len(lanes) <= MAX_LANES:
        raise ValueError(f"lanes must be a list of 1 to {MAX_LANES} lanes")
    run = Run(len(lanes))

    def release() -> None:
        run.released = _clock()

    barrier = threading.Barrier(len(lanes), action=release)
    with _lock:
        _running.append(run)
    try:
        threads = [
            start(_lane, f"grader-lane-{i}", run, i, calls, barrier, described)
            for i, calls in enumerate(lanes)
        ]
        for thread in threads:
            thread.join()
    finally:
        with _lock:
            _running.remove(run)
    return run


def inside() -> list[int]:
    """[lane threads inside a call or done, lane threads] over the runs going on now."""
    frames = sys._current_frames()
    with _lock:
        runs = list(_running)
    return [sum(run.inside(frames) for run in runs), sum(len(run.states) for run in runs)]
