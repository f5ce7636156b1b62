"""Lanes of calls run together: one thread per lane, released by one barrier (op ``lanes``).

The subject's side of ``grader.harness.together``: each lane runs its calls in turn and stops
at its first exception, as the in-process ``run_all`` does; the calls are looked up before the
release, so a lane runs nothing of the runtime's between two of its calls.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

MAX_LANES = 256  # threads of one ``lanes`` request

Call = tuple[Callable[..., Any], list[Any], dict[str, Any]]


def run_lanes(
    lanes: list[list[Call]],
    start: Callable[..., threading.Thread],
    described: Callable[[BaseException], Any],
) -> tuple[list[list[Any] | None], list[Any]]:
    """Each lane's results (None for a lane that raised) and exceptions (``described``).

    ``start(target, name, *args)`` starts a runtime thread.
    """
    if not 1 <= len(lanes) <= MAX_LANES:
        raise ValueError(f"lanes must be a list of 1 to {MAX_LANES} lanes")
    barrier = threading.Barrier(len(lanes))
    results: list[list[Any] | None] = [None] * len(lanes)
    errors: list[Any] = [None] * len(lanes)

    def run(i: int, calls: list[Call]) -> None:
        done: list[Any] = []
        try:
            barrier.wait()
            for function, args, kwargs in calls:
                done.append(function(*args, **kwargs))
        except BaseException as exc:  # the first lane's is raised in the judge
            errors[i] = described(exc)
        else:
            results[i] = done

    threads = [start(run, f"grader-lane-{i}", i, calls) for i, calls in enumerate(lanes)]
    for thread in threads:
        thread.join()
    return results, errors
