"""A simulated I/O service: the stand-in for a network call in every exercise.

Each call sleeps for a known delay (so the ideal sequential time is known in
advance), may fail on chosen inputs, and is recorded: which thread and process
made it, when it started and ended, and how many calls were in flight at once.
Peak in-flight counts are exact even on a loaded machine, which makes them a
better witness of concurrency than wall-clock time alone.

``local=True`` lets the judge run the service, and a ``TrackedSource`` of a list over it, in
the student's process (``grader.subject.local``): each call and each pull is then a one-way
notice instead of a round trip, so thousands of 1 ms calls measure the student's window, not
the wire. A local service has a constant or per-input delay; a blocking one returns the
default result, an async one may also raise planned failures (a dict) and return results
(computed here for its delays' keys). The books are kept here, in the order the notices were
sent; a blocking call's times are when the judge read them, an async call's are stamped by
the subject. In-process ``local`` changes nothing.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from grader.harness.calling import Notice, caller
from grader.subject.local import default_result

__all__ = [
    "AsyncSimulatedService",
    "CallRecord",
    "SimulatedService",
    "default_result",
]

# Clocks and sleeps are taken when the harness is imported, before any student
# code runs: a submission that patches ``time`` cannot fake the measurements.
_clock = time.perf_counter
_sleep = time.sleep

Delay = float | Mapping[Hashable, float] | Callable[[Any], float]
Failures = Mapping[Hashable, BaseException] | Callable[[Any], BaseException | None]


@dataclass
class CallRecord:
    """One call to the service, as observed."""

    arg: Any
    thread_id: int
    thread_name: str
    pid: int
    start: float
    end: float | None = None
    error: BaseException | None = None

    @property
    def duration(self) -> float:
        return (self.end or _clock()) - self.start


def _when(at: object) -> float:
    """A time the subject stamped (the shared monotonic clock), never later than now here."""
    now = _clock()
    return min(float(at), now) if type(at) in (int, float) else now


class _Recorder:
    """Shared bookkeeping for the sync and async flavours."""

    def __init__(
        self,
        delay: Delay = 0.05,
        *,
        failures: Failures | None = None,
        result: Callable[[Any], Any] = default_result,
        rendezvous: int | None = None,
        rendezvous_idle: float = 0.2,
        local: bool = False,
    ) -> None:
        plain_delay = isinstance(delay, (int, float, dict))
        if local and (rendezvous or not plain_delay or not self._local_allows(failures, result)):
            raise ValueError(f"a local service {self._LOCAL_RULE}")
        if local and result is not default_result and not isinstance(delay, dict):
            raise ValueError("a local service with results has a delay per input (a dict)")
        self.local = local
        self._open: dict[int, CallRecord] = {}  # local calls started, by their number
        self._delay = delay
        self.rendezvous = rendezvous
        self.rendezvous_idle = rendezvous_idle
        self._last_arrival = 0.0
        self._failures = failures or {}
        self._result = result
        self._lock = threading.Lock()
        self._arrival = threading.Condition(self._lock)
        self.calls: list[CallRecord] = []
        self._completed = 0
        self.in_flight = 0
        self.peak_in_flight = 0
        self.in_flight_timeline: list[tuple[float, int]] = []

    def delay_for(self, arg: Any) -> float:
        if callable(self._delay):
            return float(self._delay(arg))
        if isinstance(self._delay, Mapping):
            return float(self._delay[arg])
        return float(self._delay)

    def failure_for(self, arg: Any) -> BaseException | None:
        if callable(self._failures):
            return self._failures(arg)
        try:
            return self._failures.get(arg)
        except TypeError:  # unhashable argument: never a planned failure
            return None

    def ideal_sequential(self, args: Iterable[Any]) -> float:
        """Time a one-at-a-time caller would need for ``args``."""
        return sum(self.delay_for(a) for a in args)

    @property
    def total_calls(self) -> int:
        return len(self.calls)

    @property
    def completed(self) -> int:
        """Calls ended so far (counted as they end: a source reads it at every pull)."""
        return self._completed

    @property
    def args(self) -> list[Any]:
        """Arguments in the order the calls started."""
        return [c.arg for c in self.calls]

    def distinct_threads(self) -> int:
        return len({c.thread_id for c in self.calls})

    _LOCAL_RULE = "sleeps a known delay and returns default_result"

    @staticmethod
    def _local_allows(failures: Failures | None, result: Callable[[Any], Any]) -> bool:
        return not failures and result is default_result

    def local_spec(self) -> dict[str, Any] | None:
        """How the judge makes this service in the subject (``local=True``), else None."""
        if not self.local:
            return None
        return {
            "type": "service",
            "delay": self._delay,
            "started": Notice(self._local_started),
            "ended": Notice(self._local_ended),
        }

    def _local_started(self, number: int, arg: Any, at: float | None = None) -> None:
        if type(number) is int and number not in self._open:
            self._open[number] = self._begin(arg, caller(), _when(at))

    def _local_ended(self, number: int, outcome: str = "ok", at: float | None = None) -> None:
        record = self._open.pop(number, None) if type(number) is int else None
        if record is None:  # an end the subject never started is no call
            return
        error = None
        if outcome == "failed":
            error = self.failure_for(record.arg)
        elif outcome == "cancelled":
            error = asyncio.CancelledError()
        self._end(record, error, max(record.start, _when(at)))

    def _begin(self, arg: Any, who: Any = None, at: float | None = None) -> CallRecord:
        thread = threading.current_thread() if who is None else who
        ident = getattr(thread, "ident", 0) or 0
        start = _clock() if at is None else at
        record = CallRecord(arg, ident, thread.name, os.getpid(), start)
        with self._lock:
            self.calls.append(record)
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            self.in_flight_timeline.append((record.start, self.in_flight))
            self._last_arrival = record.start
            self._arrival.notify_all()
        return record

    def _wait_for_rendezvous(self) -> None:
        """Hold a blocking call until ``rendezvous`` calls are in flight at once.

        "Every call in flight at the same time" can only be observed with calls
        that block: on a loaded machine the first threads would otherwise finish
        before the last ones start. Correct code loses no time here (the last
        arrival releases everyone); code that never gets there is released after
        ``rendezvous_idle`` seconds without a new arrival, so it still ends.
        """
        if not self.rendezvous:
            return
        with self._arrival:
            while self.peak_in_flight < self.rendezvous:
                idle_left = self._last_arrival + self.rendezvous_idle - _clock()
                if idle_left <= 0:
                    return
                self._arrival.wait(idle_left)

    def _end(
        self, record: CallRecord, error: BaseException | None, at: float | None = None
    ) -> None:
        with self._lock:
            record.end = _clock() if at is None else at
            record.error = error
            self._completed += 1
            self.in_flight -= 1
            self.in_flight_timeline.append((record.end, self.in_flight))

    def _outcome(self, arg: Any, record: CallRecord) -> Any:
        error = self.failure_for(arg)
        self._end(record, error)
        if error is not None:
            raise error
        return self._result(arg)


class SimulatedService(_Recorder):
    """A blocking service: ``service(arg)`` sleeps ``delay_for(arg)`` seconds.

    With ``rendezvous=n``, calls first wait until ``n`` are in flight at once
    (see :meth:`_wait_for_rendezvous`), which makes peak counts exact under load.
    """

    def __call__(self, arg: Any) -> Any:
        record = self._begin(arg)
        try:
            self._wait_for_rendezvous()
            _sleep(self.delay_for(arg))
        except BaseException as exc:
            self._end(record, exc)
            raise
        return self._outcome(arg, record)


class AsyncSimulatedService(_Recorder):
    """An asyncio service: ``await service(arg)`` sleeps without blocking the loop.

    A call that is cancelled (for example by a timeout) is recorded with its
    :class:`asyncio.CancelledError`, so tests can see when cancellation arrived.
    """

    _LOCAL_RULE = "sleeps a known delay, raises planned failures (a dict) and returns results"

    @staticmethod
    def _local_allows(failures: Failures | None, result: Callable[[Any], Any]) -> bool:
        return failures is None or isinstance(failures, Mapping)

    def local_spec(self) -> dict[str, Any] | None:
        """How the judge makes this service in the subject (``local=True``), else None: the
        results of the inputs it knows (its delays' keys) go as data."""
        if not self.local:
            return None
        known = self._delay if isinstance(self._delay, dict) else {}
        return {
            "type": "async service",
            "delay": self._delay,
            "started": Notice(self._local_started),
            "ended": Notice(self._local_ended),
            "failures": dict(self._failures),
            "results": {arg: self._result(arg) for arg in known if arg not in self._failures},
        }

    async def __call__(self, arg: Any) -> Any:
        record = self._begin(arg)
        try:
            await asyncio.sleep(self.delay_for(arg))
        except BaseException as exc:
            self._end(record, exc)
            raise
        return self._outcome(arg, record)
