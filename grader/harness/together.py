"""Calls run together: each list of calls on a thread of its own, all released at once.

``run_all(lanes)`` runs each lane (a list of calls) on its own thread, the threads released
together by one barrier, each running its calls in turn; it returns each lane's results,
or raises the first lane's exception (by lane order) once every thread has ended.
``in_threads(calls)`` is one call per lane. With ``timings``, the seconds from the release to
the last call's end are appended (the threads' start-up left out).

In-process the threads are the test's. In the judge, where every call is a remote object or a
``functools.partial`` of one (``account.deposit``, ``partial(account.withdraw, 5)``), the lanes
run in the subject in one request (its type offers ``_judge_lanes``): the threads are the
student's process's, released by one barrier there, with no round trip between two calls of a
lane, so the calls contend there as closely as they do in-process. The time is then the
judge's own, around the request.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from functools import partial
from typing import Any

_clock = time.perf_counter  # taken at import, before any student code runs


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


def run_all(lanes: list[list[Callable[[], Any]]], timings: list[float] | None = None) -> list[list]:
    """One thread per lane, all released at once; each runs its calls in turn."""
    remote = _remote_lanes(lanes)
    if remote is not None:
        start = _clock()
        results = remote(lanes)
        if timings is not None:
            timings.append(_clock() - start)
        return results
    released: list[float] = []
    barrier = threading.Barrier(len(lanes), action=lambda: released.append(_clock()))
    results: list = [None] * len(lanes)
    errors: list = [None] * len(lanes)

    def run(i: int, calls: list[Callable[[], Any]]) -> None:
        try:
            barrier.wait()
            results[i] = [call() for call in calls]
        except BaseException as exc:  # handed back below
            errors[i] = exc

    threads = [threading.Thread(target=run, args=(i, c), daemon=True) for i, c in enumerate(lanes)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if timings is not None and released:
        timings.append(_clock() - released[0])
    for error in errors:
        if error is not None:
            raise error
    return results


def in_threads(calls: list[Callable[[], Any]], timings: list[float] | None = None) -> list:
    """Each call in its own thread, all released at once; their results in order."""
    return [lane[0] for lane in run_all([[call] for call in calls], timings)]
