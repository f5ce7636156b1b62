"""asyncio probes: run a coroutine function in a fresh event loop and report what happened.

``run_in_loop(fn, *args, **kwargs)`` awaits ``fn(*args, **kwargs)`` in a new
event loop in the calling thread. Call it through the ``watch`` fixture, so a
hang is still caught by the watchdog. ``watch`` keeps the keywords ``timeout``
and ``grace`` for itself, so bind the coroutine's keywords with
``functools.partial``::

    call = partial(exercise.fetch_report, limit=4, timeout=0.2)
    run = finished(watch(run_in_loop, call, urls, service), "fetch_report")
    report = returned_value(run, "fetch_report")
    check_no_pending(run, "fetch_report")

Besides the value or the exception, the :class:`LoopRun` tells:

* ``pending``: tasks still pending when the coroutine returned (``asyncio.all_tasks``);
* ``never_retrieved``: "Task exception was never retrieved", as seen by the
  loop's exception handler (it only arrives once the task is garbage-collected,
  so the loop is collected with ``gc.collect()`` before it closes);
* ``never_awaited``: "coroutine ... was never awaited" warnings;
* ``max_lag``: the longest a heartbeat task waited beyond its sleep, and
  ``max_busy``: the longest stretch the loop ran code without polling for timers
  and I/O. A blocking ``time.sleep(d)`` inside a coroutine shows in both as about
  ``d``; only the lag also counts the OS's delay in waking the thread on a loaded
  machine, so judge blocking with ``max_busy`` (:func:`check_not_blocked`).

Leftover tasks are cancelled and awaited (like ``asyncio.run`` does) before the
loop closes, so nothing outlives the call.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from typing import Any

from grader.harness.checks import fail, preview
from grader.harness.observe import Observation
from grader.subject import loop
from grader.subject.loop import HEARTBEAT_INTERVAL, LoopRun

_clock = time.perf_counter  # taken at import, before any student code runs


def run_in_loop(
    fn: Callable[..., Any],
    /,
    *args: Any,
    heartbeat_interval: float = HEARTBEAT_INTERVAL,
    **kwargs: Any,
) -> LoopRun:
    """Await ``fn(*args, **kwargs)`` in a fresh event loop with a heartbeat; report everything.

    Never raises for the code under test: its exception is in ``LoopRun.error``. In the
    judge, where ``fn`` is a remote coroutine function or a ``functools.partial`` of one, the
    loop runs in the subject (one request, op ``acall``); ``elapsed`` is then the judge's own
    wall time around it.
    """
    target = fn.func if type(fn) is partial else fn
    remote = getattr(type(target), "_judge_acall", None)
    if remote is None:
        return loop.run_in_loop(fn, *args, heartbeat_interval=heartbeat_interval, **kwargs)
    if type(fn) is partial:
        args, kwargs = (*fn.args, *args), {**fn.keywords, **kwargs}
    started = _clock()
    found = remote(target, args, kwargs)
    elapsed = _clock() - started
    run = LoopRun(**{name: found[name] for name in loop.FIELDS})
    run.value, run.error, run.elapsed = found["value"], found["error"], elapsed
    return run


# --- checks with plain-words messages ---------------------------------------------------------


def finished(obs: Observation, what: str = "the coroutine") -> LoopRun:
    """The :class:`LoopRun` of a watched :func:`run_in_loop` call, or a failure if it hung."""
    __tracebackhide__ = True
    if obs.hung:
        fail(f"{what} {obs.hang_message()}")
    if obs.error is not None:  # the probe itself failed: not the student's doing
        raise obs.error
    return obs.value


def returned_value(run: LoopRun, what: str = "the coroutine", hint: str = "") -> Any:
    """The awaited value, or a failure that names the exception (followed by ``hint``)."""
    __tracebackhide__ = True
    if run.error is not None:
        err = run.error
        fail(f"{what} raised {type(err).__name__}: {err}{hint}")
    return run.value


def check_no_pending(run: LoopRun, what: str = "the coroutine") -> None:
    """No task created by the call was still pending when it returned."""
    __tracebackhide__ = True
    if run.pending:
        shown = preview(run.pending)
        fail(
            f"{len(run.pending)} task(s) were still pending when {what} returned ({shown}): "
            "keep every task you create and await it before returning"
        )


def check_nothing_lost(run: LoopRun, what: str = "the coroutine") -> None:
    """No task exception went unretrieved, no coroutine went unawaited, the loop saw no error."""
    __tracebackhide__ = True
    if run.never_retrieved:
        fail(
            f"a task's exception was never retrieved ({run.never_retrieved[0]}): "
            "await every task you create (for example with asyncio.gather), so no error is lost"
        )
    if run.never_awaited:
        fail(
            f"a coroutine was never awaited ({run.never_awaited[0]}): calling an async "
            "function only creates a coroutine; await it, or wrap it in a task you await"
        )
    if run.loop_errors:
        fail(f"the event loop reported an error while {what} ran: {run.loop_errors[0]}")


def check_not_blocked(run: LoopRun, max_block: float, what: str = "the coroutine") -> None:
    """The loop never ran callbacks for longer than ``max_block`` seconds without polling.

    Judged on ``max_busy``, not on the heartbeat's ``max_lag``: both grow by the
    length of a blocking call, but only the lag also grows when a loaded machine
    is slow to wake the thread up.
    """
    __tracebackhide__ = True
    if run.max_busy > max_block:
        fail(blocked_message(run.max_busy, max_block, what))


def blocked_message(lag: float, max_lag: float, what: str = "the coroutine") -> str:
    return (
        f"{what} blocked the event loop for {lag * 1000:.0f} ms at a stretch "
        f"(at most {max_lag * 1000:.0f} ms allowed): a blocking call such as time.sleep inside "
        "a coroutine freezes every other task; use await asyncio.sleep or non-blocking I/O"
    )
