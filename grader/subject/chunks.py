"""Exercise 13's probe: a picklable ``func(chunk)`` that burns a known amount of CPU per
number and records who ran which chunk, and when (``grader.harness.processes`` reads it).

It runs where the module runs, in worker processes the module starts: in the judge it is a
local stand-in made in the subject (op ``local``), and the judge reads its records as plain
data (``records``). Records go to an append-only file in a private folder (one ``os.write``
per call), so they survive any start method (fork, spawn, forkserver), threads, and workers
that are killed afterwards. The probe lives in this importable module, and the loader gives
the exercise module an importable name too, so workers started by spawn or forkserver can
unpickle both.

**Rendezvous.** A pool needs some time to start its workers (a spawned worker imports Python
first), and on a loaded machine the first worker can finish every chunk before the second
one is up. With ``rendezvous=k``, a worker process that gets its first chunk waits (up to
``rendezvous_timeout``) until ``k`` distinct worker processes have arrived before it starts
working. Correct parallel code passes it as soon as its workers are up; code that runs one
chunk at a time makes the first arrival wait the whole timeout once, after which nobody
waits again. Calls in the process that created the probe (the caller, or threads of it)
never wait and never count as workers.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from typing import Any

# Taken at import, before any student code runs. CLOCK_MONOTONIC is
# system-wide on Linux, so times taken in different processes compare.
_clock = time.monotonic
_sleep = time.sleep

_LOG = "calls.log"
_GAVE_UP = "rendezvous-gave-up"
_ARRIVED = "arrived-"
MAX_COST = 100_000  # rounds of arithmetic per number
MAX_RENDEZVOUS = 64


def work_on(i: int, cost: int) -> int:
    """The value of number ``i``: ``cost`` rounds of pure-Python arithmetic (CPU-bound)."""
    x = i
    for _ in range(cost):
        x = (x * 1103515245 + 12345) % 2147483648
    return x % 1000 + i % 7


class ChunkProbe:
    """A picklable ``func(chunk: range) -> int`` that records who ran which chunk, and when.

    ``probe(range(a, b))`` returns ``sum(work_on(i, cost) for i in range(a, b))``;
    :meth:`expected` gives the same sum for ``range(n)`` without recording (the test
    computes it itself: ``grader.harness.processes.expected``).
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

    def records(self) -> list[list[Any]]:
        """Every recorded call as plain data, in the order they ended: ``[pid, thread,
        start, end, first, stop, value]`` (read by ``grader.harness.processes.calls_of``)."""
        try:
            with open(os.path.join(self.folder, _LOG), encoding="utf-8") as fh:
                lines = fh.read().splitlines()
        except FileNotFoundError:
            return []
        records = []
        for line in lines:
            pid, thread, start, end, first, stop, value = line.split()
            records.append([int(pid), int(thread), float(start), float(end), int(first),
                            int(stop), int(value)])  # fmt: skip
        return records

    def gave_up_waiting(self) -> bool:
        """True if a worker waited the whole rendezvous timeout for the others."""
        return os.path.exists(os.path.join(self.folder, _GAVE_UP))

    def reset(self) -> None:
        """Forget every record, to reuse the probe for another round."""
        for name in os.listdir(self.folder):
            os.unlink(os.path.join(self.folder, name))


def build(spec: dict[str, Any]) -> ChunkProbe | None:
    """A chunk probe from a spec (op ``local``), else None; closed by the test."""
    if spec.get("type") != "chunk probe":
        return None
    cost, rendezvous = spec.get("cost", 0), spec.get("rendezvous", 0)
    timeout = spec.get("rendezvous_timeout", 3.0)
    if type(cost) is not int or not 0 <= cost <= MAX_COST:
        raise ValueError(f"a chunk probe costs 0 to {MAX_COST} rounds a number")
    if type(rendezvous) is not int or not 0 <= rendezvous <= MAX_RENDEZVOUS:
        raise ValueError(f"a chunk probe's rendezvous is 0 to {MAX_RENDEZVOUS} workers")
    if type(timeout) not in (int, float) or not 0 <= timeout <= 30:
        raise ValueError("a chunk probe's rendezvous timeout is 0 to 30 s")
    return ChunkProbe.create(cost=cost, rendezvous=rendezvous, rendezvous_timeout=timeout)
