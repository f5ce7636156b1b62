"""Probes for process parallelism: which processes ran a function, and when.

Wall-clock speedup of CPU-bound work is no signal on a small shared machine
(see FIELD-NOTES). Parallelism is proven structurally instead:
:class:`ChunkProbe` is a picklable ``func(range) -> int`` that burns a known
amount of CPU per number and records every call (process id, thread id, start
and end of the busy interval, the chunk it got). From the records,
:func:`peak_parallel_processes` tells how many distinct worker processes were
busy at the same moment, and :func:`coverage_problems` whether the chunks
covered ``range(n)`` exactly once.

Records go to an append-only file in a private folder (one ``os.write`` per
call), so they survive any start method (fork, spawn, forkserver), threads, and
workers that are killed afterwards. The probe lives in this importable module,
and the loader gives the exercise module an importable name too
(:mod:`grader.harness.loading`), so workers started by spawn or forkserver can
unpickle both.

**Rendezvous.** A pool needs some time to start its workers (a spawned worker
imports Python first), and on a loaded machine the first worker can finish
every chunk before the second one is up. With ``rendezvous=k``, a worker
process that gets its first chunk waits (up to ``rendezvous_timeout``) until
``k`` distinct worker processes have arrived before it starts working. Correct
parallel code passes it as soon as its workers are up; code that runs one
chunk at a time makes the first arrival wait the whole timeout once, after
which nobody waits again. Calls in the process that created the probe (the
caller, or threads of it) never wait and never count as workers.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# Taken at import, before any student code runs. CLOCK_MONOTONIC is
# system-wide on Linux, so times taken in different processes compare.
_clock = time.monotonic
_sleep = time.sleep

_LOG = "calls.log"
_GAVE_UP = "rendezvous-gave-up"
_ARRIVED = "arrived-"


def work_on(i: int, cost: int) -> int:
    """The value of number ``i``: ``cost`` rounds of pure-Python arithmetic (CPU-bound)."""
    x = i
    for _ in range(cost):
        x = (x * 1103515245 + 12345) % 2147483648
    return x % 1000 + i % 7


@dataclass(frozen=True)
class ProbeCall:
    """One call of the probe, as recorded in the process that made it."""

    pid: int
    thread: int
    start: float  # busy interval, after any rendezvous wait
    end: float
    first: int  # the chunk: range(first, stop)
    stop: int
    value: int

    @property
    def size(self) -> int:
        return max(0, self.stop - self.first)


class ChunkProbe:
    """A picklable ``func(chunk: range) -> int`` that records who ran which chunk, and when.

    ``probe(range(a, b))`` returns ``sum(work_on(i, cost) for i in range(a, b))``;
    :meth:`expected` gives the same sum for ``range(n)`` without recording.
    Create it with :meth:`create` and :meth:`close` it (or use ``with``).
    """

    def __init__(
        self,
        folder: str,
        *,
        cost: int = 0,
        rendezvous: int = 0,
        rendezvous_timeout: float = 3.0,
        caller_pid: int | None = None,
    ) -> None:
        self.folder = folder
        self.cost = cost
        self.rendezvous = rendezvous
        self.rendezvous_timeout = rendezvous_timeout
        self.caller_pid = os.getpid() if caller_pid is None else caller_pid

    @classmethod
    def create(cls, **options) -> ChunkProbe:
        return cls(tempfile.mkdtemp(prefix="chunk-probe-"), **options)

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> ChunkProbe:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ChunkProbe(cost={self.cost})"

    # --- in the worker ---------------------------------------------------------------------

    def __call__(self, chunk: range) -> int:
        if not isinstance(chunk, range) or chunk.step != 1:
            raise TypeError(f"func expects a range with step 1 as its chunk, got {chunk!r}")
        pid = os.getpid()
        if pid != self.caller_pid and self.rendezvous > 1:
            self._meet(pid)
        start = _clock()
        value = sum(work_on(i, self.cost) for i in chunk)
        end = _clock()
        line = (
            f"{pid} {threading.get_ident()} {start!r} {end!r} {chunk.start} {chunk.stop} {value}\n"
        )
        fd = os.open(os.path.join(self.folder, _LOG), os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)
        return value

    def _meet(self, pid: int) -> None:
        marker = os.path.join(self.folder, f"{_ARRIVED}{pid}")
        if os.path.exists(marker):
            return  # this process already met the others (or gave up) once
        with open(marker, "w"):
            pass
        deadline = _clock() + self.rendezvous_timeout
        while True:
            names = os.listdir(self.folder)
            if _GAVE_UP in names:
                return
            if sum(n.startswith(_ARRIVED) for n in names) >= self.rendezvous:
                return
            if _clock() >= deadline:
                with open(os.path.join(self.folder, _GAVE_UP), "w"):
                    pass
                return
            _sleep(0.002)

    # --- in the test ----------------------------------------------------------------------

    def expected(self, n: int) -> int:
        """What ``func`` summed over ``range(n)`` gives, computed here without recording."""
        return sum(work_on(i, self.cost) for i in range(n))

    def calls(self) -> list[ProbeCall]:
        """Every recorded call, in the order they ended."""
        try:
            with open(os.path.join(self.folder, _LOG), encoding="utf-8") as fh:
                lines = fh.read().splitlines()
        except FileNotFoundError:
            return []
        calls = []
        for line in lines:
            pid, thread, start, end, first, stop, value = line.split()
            times = float(start), float(end)
            calls.append(
                ProbeCall(int(pid), int(thread), *times, int(first), int(stop), int(value))
            )
        return calls

    def gave_up_waiting(self) -> bool:
        """True if a worker waited the whole rendezvous timeout for the others."""
        return os.path.exists(os.path.join(self.folder, _GAVE_UP))

    def reset(self) -> None:
        """Forget every record, to reuse the probe for another round."""
        for name in os.listdir(self.folder):
            os.unlink(os.path.join(self.folder, name))


# --- reading the records -----------------------------------------------------------------------


def worker_pids(calls: Iterable[ProbeCall], caller_pid: int) -> set[int]:
    """Processes other than the caller that ran at least one call."""
    return {c.pid for c in calls if c.pid != caller_pid}


def peak_parallel_processes(calls: Sequence[ProbeCall], caller_pid: int) -> int:
    """The most distinct worker processes busy at one moment (overlapping intervals).

    An interval is half-open: one that ends exactly when another starts does
    not overlap it. Calls in the caller's process are left out.
    """
    events = []
    for c in calls:
        if c.pid != caller_pid and c.end > c.start:
            events.append((c.start, 1, c.pid))
            events.append((c.end, -1, c.pid))
    events.sort(key=lambda e: (e[0], e[1]))  # ends before starts at the same instant
    busy: dict[int, int] = {}
    peak = 0
    for _, delta, pid in events:
        busy[pid] = busy.get(pid, 0) + delta
        if busy[pid] == 0:
            del busy[pid]
        peak = max(peak, len(busy))
    return peak


def coverage_problems(calls: Iterable[ProbeCall], n: int) -> str | None:
    """``None`` if the chunks cover ``range(n)`` exactly once, else what went wrong, in words."""
    counts: dict[int, int] = {}
    for c in calls:
        for i in range(c.first, c.stop):
            counts[i] = counts.get(i, 0) + 1
    missing = [i for i in range(n) if i not in counts]
    twice = sorted(i for i, k in counts.items() if k > 1 and 0 <= i < n)
    outside = sorted(i for i in counts if not 0 <= i < n)
    problems = []
    if missing:
        problems.append(f"{len(missing)} number(s) never given to func (e.g. {_few(missing)})")
    if twice:
        problems.append(f"{len(twice)} number(s) given to func more than once (e.g. {_few(twice)})")
    if outside:
        problems.append(f"{len(outside)} number(s) outside range(n) (e.g. {_few(outside)})")
    if not problems:
        return None
    return f"the chunks do not cover range({n}) exactly once: " + "; ".join(problems)


def _few(numbers: Sequence[int], limit: int = 3) -> str:
    return ", ".join(map(str, numbers[:limit])) + (", …" if len(numbers) > limit else "")


def lingering_processes(
    before: Iterable[multiprocessing.process.BaseProcess], grace: float = 1.0
) -> list[str]:
    """Child processes started since ``before`` that are still alive after ``grace`` seconds.

    Processes that are already exiting when the call returns (a pool shut down
    without waiting) get the grace period to finish.
    """
    known = set(before)
    deadline = _clock() + grace
    left = []
    for p in multiprocessing.active_children():
        if p in known:
            continue
        p.join(max(0.0, deadline - _clock()))
        if p.is_alive():
            left.append(f"process {p.name!r} (pid {p.pid})")
    return left
