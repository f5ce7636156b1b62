"""What a call of the module starts and locks, counted where it runs (exercise 14).

``CountedCall`` runs one call of ``module.parallel_total`` with ``threading.Thread.start``
counted (and refused beyond a cap, so a thread per value fails fast), and optionally with
the module's locks swapped for recording ones (``CountingThreading``); it reports the
thread starts, the lock acquisitions and its own CPU time. In the judge it is a local
stand-in (op ``local``), and what it reports is the subject's word: the judge checks the CPU
time against its own reading of ``/proc`` and measures the yardstick itself. ``values``
builds the same list of numbers from a seed on either side, so a long input never crosses.
"""

from __future__ import annotations

import contextlib
import itertools
import random
import threading
import time
from collections.abc import Iterator
from types import ModuleType
from typing import Any

from grader.locks.recorder import LockOrderRecorder
from grader.locks.recording import RecordingLock

# Taken at import, before any student code runs.
_cpu_clock = time.process_time
_thread_start = threading.Thread.start
_threading_lock, _threading_rlock = threading.Lock, threading.RLock
_LOCK_TYPES = (type(threading.Lock()), type(threading.RLock()))
MAX_VALUES = 5_000_000


def values(seed: int, n: int) -> list[int]:
    """``n`` numbers in ±10**9 from ``seed``: the same list in the judge and the subject."""
    if type(seed) is not int or type(n) is not int or not 0 <= n <= MAX_VALUES:
        raise ValueError(f"a seed and 0 to {MAX_VALUES} values")
    rng = random.Random(seed)
    return [rng.randrange(-(10**9), 10**9) for _ in range(n)]


class CountingThreading:
    """Stands in for ``threading`` in the submission's globals: every lock it makes records.

    Only the submission's own locks are counted (those it makes through ``threading`` or
    names imported from it, and those it made at import): the locks inside ``threading``
    and ``concurrent.futures`` are not its doing.
    """

    def __init__(self) -> None:
        self._recorder = LockOrderRecorder()
        self._numbers = itertools.count(1)
        self.made: list[RecordingLock] = []

    def Lock(self) -> RecordingLock:  # named as in threading
        self.made.append(self._recorder.lock(f"lock {next(self._numbers)}"))
        return self.made[-1]

    def RLock(self) -> RecordingLock:
        self.made.append(self._recorder.rlock(f"lock {next(self._numbers)}"))
        return self.made[-1]

    def Condition(self, lock: Any = None) -> threading.Condition:
        return threading.Condition(self.RLock() if lock is None else lock)

    def __getattr__(self, name: str) -> Any:
        return getattr(threading, name)

    @property
    def taken(self) -> int:
        """How many times the submission's locks were acquired (tries included)."""
        return sum(lock.attempts for lock in self.made)


@contextlib.contextmanager
def counting_locks(module: ModuleType) -> Iterator[CountingThreading]:
    """Swap the module's ``threading``, ``Lock``/``RLock`` names and module-level locks."""
    counting = CountingThreading()
    names = vars(module)
    saved = dict(names)
    for name, value in saved.items():
        if value is threading:
            names[name] = counting
        elif value is _threading_lock:
            names[name] = counting.Lock
        elif value is _threading_rlock:
            names[name] = counting.RLock
        elif value is threading.Condition:
            names[name] = counting.Condition
        elif isinstance(value, _LOCK_TYPES):
            names[name] = counting.RLock() if "RLock" in type(value).__name__ else counting.Lock()
    try:
        yield counting
    finally:
        names.update(saved)


@contextlib.contextmanager
def counting_thread_starts(cap: int) -> Iterator[list[str]]:
    """Count ``Thread.start`` calls (executors' threads included); refuse beyond ``cap``."""
    starts: list[str] = []

    def start(thread: threading.Thread) -> None:
        starts.append(thread.name)
        if len(starts) > cap:
            raise RuntimeError(f"more than {cap} threads started")
        return _thread_start(thread)

    threading.Thread.start = start  # type: ignore[method-assign]
    try:
        yield starts
    finally:
        threading.Thread.start = _thread_start  # type: ignore[method-assign]


class CountedCall:
    """``counted(values, workers, locks)``: ``module.parallel_total(values, workers)`` with
    thread starts capped at ``workers + 1``; returns ``[value, cpu, starts, taken]``: the
    value (None if the cap stopped it), this process's CPU seconds over the call, the
    threads started, and (``locks`` true) how often the module's own locks were taken."""

    def __init__(self, module: ModuleType) -> None:
        if not isinstance(module, ModuleType):
            raise TypeError("a counted call calls a module")
        self._module = module

    def __call__(self, values: Any, workers: int, locks: bool = False) -> list[Any]:
        cap = int(workers) + 1
        with contextlib.ExitStack() as stack:
            counting = stack.enter_context(counting_locks(self._module)) if locks else None
            starts = stack.enter_context(counting_thread_starts(cap))
            cpu = _cpu_clock()
            try:
                value = self._module.parallel_total(values, workers)
            except RuntimeError:
                if len(starts) <= cap:
                    raise
                value = None
            cpu = _cpu_clock() - cpu
        taken = counting.taken if counting is not None else 0
        return [value, cpu, len(starts), taken]

    def __repr__(self) -> str:
        return "<grader counted call>"


def build(spec: dict[str, Any]) -> Any:
    """The local object a counting spec (from the judge, resolved) describes, else None."""
    kind = spec.get("type")
    if kind == "values":
        return values(spec["seed"], spec["n"])
    if kind == "counted call":
        return CountedCall(spec["module"])
    return None
