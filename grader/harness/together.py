"""Calls run together: each list of calls on a thread of its own, all released at once.

``run_all(lanes)`` runs each lane (a list of calls) on its own thread, the threads released
together by one barrier, each running its calls in turn; it returns each lane's results,
or raises the first lane's exception (by lane order) once every thread has ended.
``each_lane(lanes)`` gives each lane's results or exception instead of the first exception;
``in_threads(calls)`` is one call per lane; ``outcomes_in_threads(calls)`` too, with each
call's outcome, ``("value", v)`` or ``("error", e)``, instead of the first exception. With
``timings``, the seconds from the release to the last call's end are appended (the threads'
start-up left out).

``lanes_inside(anchor)`` is, while lanes run, how many of their threads are inside a call
(in student code) or done, of how many: a test's callable called by one lane waits on it
until the others have really entered the code under test.

In-process the threads are the test's (``grader.subject.lanes`` runs them). In the judge,
where every call is a remote object or a ``functools.partial`` of one (``account.deposit``,
``partial(account.withdraw, 5)``), the lanes run in the subject in one request (its type
offers ``_judge_lanes``): the threads are the student's process's, released by one barrier
there, with no round trip between two calls of a lane, so the calls contend there as
closely as they do in-process. The time is then the judge's own, around the request; the
``anchor`` of ``lanes_inside`` is any remote object (its type offers ``_judge_inside``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from grader.subject import lanes as subject_lanes

_clock = time.perf_counter  # taken at import, before any student code runs

Outcome = tuple[str, Any]


def _remote_lanes(lanes: list[list[Callable[[], Any]]]) -> Any:
    """The judge's ``_judge_lanes`` when every call is remote, else None."""
    hook = None
    for lane in lanes:
        for call in lane:
            target = call.func if type(call) is partial else call
            found = getattr(type(target), "_judge_lanes", None)
            if found is None:
                return None
            hook = hook or partial(found, target)
    return hook


def _start(target: Callable[..., None], name: str, *args: Any) -> threading.Thread:
    thread = threading.Thread(target=target, args=args, name=name, daemon=True)
    thread.start()
    return thread


def _run(
    lanes: list[list[Callable[[], Any]]], timings: list[float] | None
) -> tuple[list[list[Any] | None], list[BaseException | None]]:
    """Each lane's results (None if it raised) and exception (None if it did not)."""
    remote = _remote_lanes(lanes)
    if remote is not None:
        start = _clock()
        results, errors = remote(lanes)
        if timings is not None:
            timings.append(_clock() - start)
        return results, errors
    calls = [[(call, [], {}) for call in lane] for lane in lanes]
    run = subject_lanes.run_lanes(calls, _start, lambda exc: exc)
    if timings is not None and run.released is not None:
        timings.append(_clock() - run.released)
    return run.results, run.errors


def run_all(lanes: list[list[Callable[[], Any]]], timings: list[float] | None = None) -> list[list]:
    """One thread per lane, all released at once; each runs its calls in turn."""
    results, errors = _run(lanes, timings)
    for error in errors:
        if error is not None:
            raise error
    return results  # type: ignore[return-value]  # no lane raised: every lane has results


def each_lane(
    lanes: list[list[Callable[[], Any]]], timings: list[float] | None = None
) -> list[tuple[list[Any] | None, BaseException | None]]:
    """One thread per lane, all released at once; each lane's results (None if it raised)
    and exception (None if it did not), in lane order."""
    results, errors = _run(lanes, timings)
    return list(zip(results, errors, strict=True))


def in_threads(calls: list[Callable[[], Any]], timings: list[float] | None = None) -> list:
    """Each call in its own thread, all released at once; their results in order."""
    return [lane[0] for lane in run_all([[call] for call in calls], timings)]


def outcomes_in_threads(
    calls: list[Callable[[], Any]], timings: list[float] | None = None
) -> list[Outcome]:
    """Each call in its own thread, all released at once; each one's value or exception."""
    results, errors = _run([[call] for call in calls], timings)
    return [
        ("error", error) if error is not None else ("value", done[0])  # type: ignore[index]
        for done, error in zip(results, errors, strict=True)
    ]


def lanes_inside(anchor: Any) -> tuple[int, int]:
    """(lane threads inside a call or done, lane threads) of the lanes running now."""
    remote = getattr(type(anchor), "_judge_inside", None)
    inside, total = remote(anchor) if remote is not None else subject_lanes.inside()
    return inside, total
