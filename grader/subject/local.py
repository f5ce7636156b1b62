"""Local stand-ins: a simulated service and a source that run here, not in the judge (op ``local``).

A call of a judge proxy is a round trip (hundreds of microseconds); a test that makes
thousands of 1 ms calls would measure the wire, not the student's window. A local service
sleeps its known delay in the calling thread and tells the judge of each start and end one
way (two notices, in the order they happened); a local source hands out its items from a
list and tells the judge of each pull. The judge keeps the books (``harness.service``): in
flight, completed, pulled ahead. What these objects count here only serves to cut a run short
once a fault is certain; no verdict reads it.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from itertools import count
from typing import Any

from grader.locks.recorder import LockOrderRecorder
from grader.subject import chunks, counting, probes

_sleep = time.sleep  # taken at import, before any student code runs
_clock = time.perf_counter  # CLOCK_MONOTONIC: the judge's clock too (one machine)


def default_result(arg: Any) -> str:
    """What a simulated call returns by default: a value that names its input."""
    return f"response to {arg!r}"


def certain_fault(pulled: int, completed: int, peak_in_flight: int, cap: int) -> bool:
    """Whether a source may end a run early: more than ``cap`` items pulled ahead of the
    completed calls, or 200 pulled with never more than one call in flight."""
    return pulled - completed > cap or (pulled >= 200 and peak_in_flight <= 1)


def delay_for(delay: float | dict[Any, float], arg: Any) -> float:
    """A local service's delay for ``arg``: one for all, or per input."""
    return float(delay[arg] if type(delay) is dict else delay)


def _check_delay(delay: object) -> None:
    if type(delay) is not dict and type(delay) not in (int, float):
        raise TypeError("a local service's delay is a number or a dict of numbers")


class LocalService:
    """``service(arg)`` sleeps its delay here, telling the judge ``started(n, arg)`` and
    ``ended(n)``, and returns ``default_result(arg)``."""

    def __init__(
        self,
        delay: float | dict[Any, float],
        started: Callable[..., None],
        ended: Callable[..., None],
    ) -> None:
        _check_delay(delay)
        self._delay, self._started, self._ended = delay, started, ended
        self._numbers = count(1)
        self._lock = threading.Lock()
        self.in_flight = self.peak_in_flight = self.completed = 0

    def __call__(self, arg: Any) -> str:
        number = next(self._numbers)
        delay = delay_for(self._delay, arg)
        with self._lock:
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        self._started(number, arg)
        try:
            _sleep(delay)
        finally:
            self._ended(number)
            with self._lock:
                self.in_flight -= 1
                self.completed += 1
        return default_result(arg)

    def __repr__(self) -> str:
        return "<grader service>"


class LocalAsyncService:
    """``await service(arg)`` sleeps its delay on the event loop, telling the judge
    ``started(n, arg, t)`` and ``ended(n, outcome, t)`` (``t`` on the shared monotonic clock;
    ``outcome`` "ok", "failed" or "cancelled"), then raises ``failures[arg]`` (the judge's
    exception, rebuilt here once) or returns ``results[arg]`` (else ``default_result``)."""

    def __init__(
        self,
        delay: float | dict[Any, float],
        started: Callable[..., None],
        ended: Callable[..., None],
        failures: dict[Any, BaseException],
        results: dict[Any, Any],
    ) -> None:
        _check_delay(delay)
        if type(failures) is not dict or type(results) is not dict:
            raise TypeError("a local service's failures and results are dicts")
        self._delay, self._started, self._ended = delay, started, ended
        self._failures, self._results = failures, results
        self._numbers = count(1)

    async def __call__(self, arg: Any) -> Any:
        number = next(self._numbers)
        delay = delay_for(self._delay, arg)
        failure = self._failures.get(arg)
        self._started(number, arg, _clock())
        outcome = "cancelled"
        try:
            await asyncio.sleep(delay)
            outcome = "ok" if failure is None else "failed"
        finally:
            self._ended(number, outcome, _clock())
        if failure is not None:
            raise failure
        return self._results[arg] if arg in self._results else default_result(arg)

    def __repr__(self) -> str:
        return "<grader service>"


class LocalSource:
    """An iterator over ``items`` that tells the judge ``pulled()`` at each item.

    With ``service`` and ``cut_short``, it ends early once the run is certainly at fault:
    more than ``cut_short`` items pulled ahead of the service's completions, or 200 pulled
    with never more than one call in flight (the judge's books say which).
    """

    def __init__(
        self,
        items: list[Any],
        pulled: Callable[[], None],
        service: LocalService | None = None,
        cut_short: int | None = None,
    ) -> None:
        if type(items) is not list:
            raise TypeError("a local source's items are a list")
        self._items, self._pulled, self._service = iter(items), pulled, service
        self._cut_short, self._count = cut_short, 0

    def __iter__(self) -> LocalSource:
        return self

    def __next__(self) -> Any:
        service, cap = self._service, self._cut_short
        cut = service is not None and cap is not None
        if cut and certain_fault(self._count, service.completed, service.peak_in_flight, cap):
            raise StopIteration
        item = next(self._items)
        self._count += 1
        self._pulled()
        return item

    def __repr__(self) -> str:
        return "<grader source>"


class CallLog:
    """A callable that only keeps the arguments of each call (``list.append`` is atomic), read
    at the end with ``calls()``: a stress test's thousands of audits with no round trip. What
    it keeps is student-made (as any call of a judge callable is), and read as checked data."""

    def __init__(self) -> None:
        self._calls: list[tuple[Any, ...]] = []

    def __call__(self, *args: Any) -> None:
        self._calls.append(args)

    def calls(self) -> list[list[Any]]:
        return [list(args) for args in list(self._calls)]


def build(spec: dict[str, Any]) -> Any:
    """The local object a spec (from the judge, resolved) describes."""
    kind = spec.get("type")
    if kind == "service":
        return LocalService(spec["delay"], spec["started"], spec["ended"])
    if kind == "async service":
        return LocalAsyncService(
            spec["delay"], spec["started"], spec["ended"], spec["failures"], spec["results"]
        )
    if kind == "call log":
        return CallLog()
    if kind == "recorder":  # recording locks are taken here, by student code
        return LockOrderRecorder(**{k: spec[k] for k in ("break_deadlocks", "poll") if k in spec})
    if kind == "source":
        service = spec.get("service")
        if service is not None and type(service) is not LocalService:
            raise TypeError("a local source counts the completions of a local service only")
        return LocalSource(spec["items"], spec["pulled"], service, spec.get("cut_short"))
    for more in (probes.build, chunks.build, counting.build):  # exercises 3, 13 and 14
        made = more(spec)
        if made is not None:
            return made
    raise ValueError(f"no local object of type {kind!r}")
