"""Functions of a known kind for exercise 3's ``classify``, measured by the test itself.

A ``Probe`` waits or computes in the thread that calls it (``grader.subject.probes``: in the
judge it is made in the subject, where it runs), and tells the test the native id of that
thread as it begins and ends. The test then reads that thread's CPU clock and the process's
from ``/proc`` (``CpuMeter``, the ``cpu_meter`` fixture), so what a submission does to its
own clocks or to the probe's counts cannot change a measurement.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from grader.harness import procfs
from grader.harness.calling import caller
from grader.subject.probes import BODIES, LocalProbe

_clock = time.perf_counter
_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

WHAT = {
    "sleep": "sleeping {:.2f} s",
    "queue": "waiting {:.2f} s for an item on a queue",
    "socket": "waiting {:.2f} s for data on a socket",
    "arithmetic": "computing arithmetic for {:.2f} s",
    "text": "building strings for {:.2f} s",
}


class CpuMeter:
    """CPU clocks of one process's threads, read from ``/proc/PROC`` (``PROC`` a pid or
    "self"): a thread is named by its native id as that process sees it (its own pid
    namespace's, the last of ``NSpid``)."""

    def __init__(self, proc: int | str) -> None:
        self.root = f"/proc/{proc}"
        self._tasks: dict[int, str] = {}

    def _task(self, native: int) -> str | None:
        found = self._tasks.get(native)
        if found is not None:
            return found
        try:
            tasks = os.listdir(f"{self.root}/task")
        except OSError:
            return None
        for task in tasks:
            status = procfs.read(f"{self.root}/task/{task}/status")
            for line in status.splitlines():
                if line.startswith("NSpid:") and line.split()[-1] == str(native):
                    self._tasks[native] = found = f"{self.root}/task/{task}"
                    return found
        return None

    def thread(self, native: object) -> tuple[float, float] | None:
        """Seconds the process's thread ``native`` has run on a CPU, and waited ready to run
        for one (the kernel's run queue: 0 where it does not say); None if there is no such
        thread."""
        task = self._task(native) if type(native) is int else None
        if task is None:
            return None
        schedstat = procfs.read(f"{task}/schedstat").split()
        if len(schedstat) >= 2:
            return int(schedstat[0]) / 1e9, int(schedstat[1]) / 1e9
        ran = _ticks(procfs.read(f"{task}/stat"))
        return None if ran is None else (ran, 0.0)

    def process(self) -> float:
        """Seconds on a CPU of the whole process (every thread, ended ones too)."""
        return _ticks(procfs.read(f"{self.root}/stat")) or 0.0


def _ticks(stat: str) -> float | None:
    if not stat:
        return None
    fields = stat.rsplit(")", 1)[-1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime


class Probe:
    """A function for ``classify``: ``BODIES[kind]`` for ``seconds``, in the calling thread.

    After a call: ``calls``, ``threads`` (``caller()`` of each call), ``wall`` (seconds from
    its start to its end, as the test saw them), ``thread_share`` and ``process_share`` (CPU
    seconds of its thread and of the whole process over ``wall``), ``queued_share`` (seconds
    its thread was ready to run but waited for a CPU, over ``wall``: the machine's load);
    ``foreign`` if it named a thread that is not the module's process's, or two threads.
    """

    def __init__(self, kind: str, seconds: float, meter: CpuMeter) -> None:
        if kind not in BODIES:
            raise ValueError(f"no probe of kind {kind!r}")
        self.kind, self.seconds, self.meter = kind, seconds, meter
        self.what = WHAT[kind].format(seconds)
        self.calls, self.threads = 0, []
        self.wall = self.thread_share = self.process_share = self.queued_share = 0.0
        self.foreign = False
        self._start: tuple[object, tuple[float, float] | None, float, float] | None = None

    def __call__(self) -> None:
        """In-process: the probe runs here."""
        LocalProbe(self.kind, self.seconds, self._begin, self._end)()

    def local_spec(self) -> dict[str, Any]:
        """In the judge: made in the subject, reporting back by round trips."""
        return {"type": "probe", "kind": self.kind, "seconds": self.seconds,
                "begin": self._begin, "end": self._end}  # fmt: skip

    def _begin(self, native: object) -> None:
        self.calls += 1
        self.threads.append(caller())
        self._start = (native, self.meter.thread(native), self.meter.process(), _clock())

    def _end(self, native: object) -> None:
        cpu, process, now = self.meter.thread(native), self.meter.process(), _clock()
        if self._start is None:
            self.foreign = True
            return
        started, cpu0, process0, at = self._start
        self.wall = now - at
        if native != started or cpu is None or cpu0 is None:
            self.foreign = True
            return
        if self.wall > 0:
            self.thread_share = (cpu[0] - cpu0[0]) / self.wall
            self.queued_share = (cpu[1] - cpu0[1]) / self.wall
            self.process_share = (process - process0) / self.wall


class Steered:
    """Clocks steered where the module runs (``grader.subject.probes.SteeredClocks``): its
    ``probe`` moves them; ``callers`` are ``caller()`` of each call of the probe."""

    def __init__(self, make: Callable[[Callable[[], None]], Any]) -> None:
        self.callers: list[object] = []
        self.undone = False
        self.clocks = make(self._called)

    def _called(self) -> None:
        self.callers.append(caller())

    @property
    def probe(self) -> Any:
        return self.clocks.probe

    @property
    def reads_after(self) -> int:
        return int(self.clocks.reads_after)

    def undo(self) -> None:
        """The real clocks again (once: a subject gone since cannot be asked twice)."""
        self.undone = True
        self.clocks.undo()
