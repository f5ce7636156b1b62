"""Await a coroutine function in a fresh event loop, and report what it did to the loop.

The core of ``grader.harness.aio.run_in_loop``, shared by the in-process harness and the
subject's op ``acall`` (stdlib only): the call runs in a new event loop in the calling
thread, with a heartbeat task and a selector that times each stretch between two polls.
``LoopRun`` tells the value or the exception, the tasks left pending, exceptions never
retrieved, coroutines never awaited, warnings, the heartbeat's worst lag and the loop's
longest busy stretch (see ``grader.harness.aio`` for what each means to a test).
"""

from __future__ import annotations

import asyncio
import gc
import inspect
import selectors
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# Taken at import, before any student code runs (see service.py).
_clock = time.perf_counter

HEARTBEAT_INTERVAL = 0.005  # seconds between heartbeat ticks
CLEANUP_TIMEOUT = 2.0  # seconds leftover tasks get to finish after being cancelled


@dataclass
class LoopRun:
    """What one coroutine call did to its event loop."""

    value: Any = None
    error: BaseException | None = None
    elapsed: float = 0.0  # seconds from the call to its return, inside the loop
    pending: list[str] = field(default_factory=list)
    never_retrieved: list[str] = field(default_factory=list)
    loop_errors: list[str] = field(default_factory=list)  # other exception-handler reports
    never_awaited: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # every warning, as "Category: message"
    max_lag: float = 0.0  # seconds the heartbeat woke up late, at worst
    ticks: int = 0  # heartbeat ticks seen
    max_busy: float = 0.0  # seconds of the longest stretch between two polls of the loop


class _TimingSelector(selectors.DefaultSelector):
    """The loop's selector, noting the longest stretch between two polls.

    Between two calls to ``select`` the loop runs callbacks and task steps
    without looking at timers or I/O: that stretch is how long it was blocked.
    Unlike the heartbeat's lag, it leaves out the time the OS took to wake the
    thread up, which is most of the noise on a loaded machine.
    """

    def __init__(self) -> None:
        super().__init__()
        self.max_busy = 0.0
        self.since: float | None = None  # when the loop last came back from polling

    def note(self, now: float) -> None:
        if self.since is not None:
            self.max_busy = max(self.max_busy, now - self.since)

    def select(self, timeout: float | None = None):  # type: ignore[override]
        self.note(_clock())
        try:
            return super().select(timeout)
        finally:
            self.since = _clock()


class _Heartbeat:
    """A task that sleeps ``interval`` in a loop and notes how late it wakes up."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.max_lag = 0.0
        self.ticks = 0
        self.last = _clock()

    def note(self, now: float) -> None:
        self.max_lag = max(self.max_lag, now - self.last - self.interval)

    async def beat(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            now = _clock()
            self.note(now)
            self.last = now
            self.ticks += 1


def describe_task(task: asyncio.Task) -> str:
    """A task as students wrote it: its coroutine's qualified name, and whether it was cancelled."""
    coro = task.get_coro()
    name = getattr(coro, "__qualname__", None) or task.get_name()
    return f"{name} (cancelled but not awaited)" if task.cancelling() else name


def run_in_loop(
    fn: Callable[..., Any],
    /,
    *args: Any,
    heartbeat_interval: float = HEARTBEAT_INTERVAL,
    **kwargs: Any,
) -> LoopRun:
    """Await ``fn(*args, **kwargs)`` in a fresh event loop with a heartbeat; report everything.

    Never raises for the code under test: its exception is in ``LoopRun.error``.
    """
    run = LoopRun()
    selector = _TimingSelector()
    loop = asyncio.SelectorEventLoop(selector)
    loop.set_exception_handler(lambda _loop, context: _record_loop_error(run, context))
    asyncio.set_event_loop(loop)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                main = _main(run, selector, fn, args, kwargs, heartbeat_interval)
                leftover = loop.run_until_complete(main)
                _cancel_and_wait(loop, leftover)
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.run_until_complete(loop.shutdown_default_executor())
            finally:
                leftover = []
                gc.collect()  # unreferenced tasks report unretrieved exceptions now
        run.warnings = [f"{w.category.__name__}: {w.message}" for w in caught]
        run.never_awaited = [w for w in run.warnings if "was never awaited" in w]
    finally:
        asyncio.set_event_loop(None)
        loop.close()
    return run


async def _main(
    run: LoopRun,
    selector: _TimingSelector,
    fn: Callable[..., Any],
    args: tuple,
    kwargs: dict,
    interval: float,
) -> set[asyncio.Task]:
    heart = _Heartbeat(interval)
    beating = asyncio.create_task(heart.beat(), name="grader-heartbeat")
    start = selector.since = _clock()
    try:
        result = fn(*args, **kwargs)
        if not inspect.isawaitable(result):
            name = getattr(fn, "__name__", "the function")
            raise TypeError(
                f"{name} returned {type(result).__name__}, not an awaitable: "
                "it must be a coroutine function (async def)"
            )
        run.value = await result
    except BaseException as exc:  # the call's own failure (even CancelledError), never raised
        run.error = exc
    finally:
        now = _clock()
        run.elapsed = now - start
        heart.note(now)  # a block just before returning counts too
        selector.note(now)
        run.max_lag, run.ticks, run.max_busy = heart.max_lag, heart.ticks, selector.max_busy
    me = asyncio.current_task()
    leftover = {t for t in asyncio.all_tasks() if t is not me and t is not beating}
    run.pending = sorted(describe_task(t) for t in leftover)
    beating.cancel()
    await asyncio.wait([beating])
    return leftover


def _cancel_and_wait(loop: asyncio.AbstractEventLoop, tasks: set[asyncio.Task]) -> None:
    if not tasks:
        return
    for task in tasks:
        task.cancel()
    done, _ = loop.run_until_complete(asyncio.wait(tasks, timeout=CLEANUP_TIMEOUT))
    for task in done:  # already reported as pending: don't report them twice
        if not task.cancelled():
            task.exception()


def _record_loop_error(run: LoopRun, context: dict[str, Any]) -> None:
    message = context.get("message", "")
    exc = context.get("exception")
    text = f"{message}: {type(exc).__name__}: {exc}" if exc is not None else message
    if "never retrieved" in message:
        run.never_retrieved.append(text)
    else:
        run.loop_errors.append(text)


FIELDS = ("elapsed", "pending", "never_retrieved", "loop_errors", "never_awaited", "warnings",
          "max_lag", "ticks", "max_busy")  # fmt: skip


def fields(run: LoopRun) -> dict[str, Any]:
    """What a ``LoopRun`` tells besides its value and error, as plain data."""
    return {name: getattr(run, name) for name in FIELDS}
