"""Reading exercise 13's probe: which processes ran a function, and when.

Wall-clock speedup of CPU-bound work is no signal on a small shared machine
(see FIELD-NOTES). Parallelism is proven structurally instead: the probe
(:class:`~grader.subject.chunks.ChunkProbe`, made where the module runs) is a
picklable ``func(range) -> int`` that burns a known amount of CPU per number and
records every call (process id, thread id, start and end of the busy interval,
the chunk it got). :func:`calls_of` reads its records as :class:`ProbeCall`
values, checked; :func:`peak_parallel_processes` tells how many distinct worker
processes were busy at the same moment, and :func:`coverage_problems` whether the
chunks covered ``range(n)`` exactly once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from grader.subject.chunks import ChunkProbe, work_on

__all__ = ["ChunkProbe", "ProbeCall", "calls_of", "expected", "work_on"]

_clock = time.monotonic  # taken at import, before any student code runs
_sleep = time.sleep


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


def calls_of(probe: Any) -> list[ProbeCall]:
    """The probe's records (``ChunkProbe.records``, from wherever it ran) as calls; a record
    that is not seven numbers of the right kinds is refused."""
    calls = []
    for record in probe.records():
        kinds = [type(field) for field in record] if type(record) in (list, tuple) else []
        if kinds != [int, int, float, float, int, int, int]:
            raise ValueError("the probe's records were tampered with")
        calls.append(ProbeCall(*record))
    return calls


def expected(cost: int, n: int) -> int:
    """What a probe of ``cost`` sums over ``range(n)`` to, computed here."""
    return sum(work_on(i, cost) for i in range(n))


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
    before: Iterable[int], children: Callable[[], set[int]], grace: float = 1.0
) -> list[str]:
    """Child processes of the module's process (``children()``, their pids) started since
    ``before`` and still alive after ``grace`` seconds: a pool shut down without waiting
    gets the grace period to finish."""
    known, deadline = set(before), _clock() + grace
    while True:
        left = children() - known
        if not left or _clock() >= deadline:
            return [f"process {pid}" for pid in sorted(left)]
        _sleep(0.01)
