"""Work of a known kind run where the student's module runs: exercise 3's probes, busy
threads beside them, and clocks that move only when a probe says so.

In the judge these are local stand-ins (op ``local``, :func:`build`): a probe waits or
computes in the thread that calls it, and tells the judge, by two round trips, the native id
of that thread as it begins and ends; the judge reads that thread's CPU clock from ``/proc``
itself. Nothing measured here is a verdict. In-process the harness uses the same classes.
"""

from __future__ import annotations

import hashlib
import queue
import socket
import sys
import threading
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

_sleep = time.sleep  # taken at import, before any student code runs
_clock = time.perf_counter
_thread_time = time.thread_time
MAX_SECONDS = 5.0  # the longest a probe may wait or compute
MAX_BUSY = 4  # busy threads
MAX_MEGABYTES = 64  # the buffer they hash


def _sleeping(seconds: float) -> None:
    _sleep(seconds)


def _waiting_on_a_queue(seconds: float) -> None:
    q: queue.Queue[int] = queue.Queue()
    timer = threading.Timer(seconds, q.put, args=(1,))
    timer.start()
    q.get(timeout=10)
    timer.join()


def _waiting_on_a_socket(seconds: float) -> None:
    here, there = socket.socketpair()
    with here, there:
        timer = threading.Timer(seconds, there.sendall, args=(b"ping",))
        timer.start()
        here.settimeout(10)
        here.recv(4)
        timer.join()


def _arithmetic() -> int:
    x = 1
    for i in range(2000):
        x = (x * 31 + i) % 1_000_003
    return x


def _text_building() -> int:
    words: dict[str, str] = {}
    for i in range(500):
        key = f"w{i % 97}-{i * i % 13}"
        words[key] = words.get(key, "") + str(i)[-1]
    return len("".join(sorted(words)))


def _computing(kernel: Callable[[], object]) -> Callable[[float], None]:
    def body(seconds: float) -> None:
        """Repeat ``kernel`` until this thread has used ``seconds`` of CPU (or 3 s passed)."""
        start, wall = _thread_time(), _clock()
        while _thread_time() - start < seconds and _clock() - wall < 3.0:
            kernel()

    return body


BODIES: dict[str, Callable[[float], None]] = {
    "sleep": _sleeping,
    "queue": _waiting_on_a_queue,
    "socket": _waiting_on_a_socket,
    "arithmetic": _computing(_arithmetic),
    "text": _computing(_text_building),
}


def _seconds(value: object) -> float:
    if type(value) not in (int, float) or not 0 <= value <= MAX_SECONDS:  # type: ignore[operator]
        raise ValueError(f"a probe waits or computes 0 to {MAX_SECONDS:g} s")
    return float(value)  # type: ignore[arg-type]


class LocalProbe:
    """``probe()`` tells ``begin(tid)``, waits or computes ``seconds`` (``BODIES[kind]``) in
    the calling thread, then tells ``end(tid)``; ``tid`` is the thread's native id."""

    def __init__(self, kind: str, seconds: float, begin: Callable, end: Callable) -> None:
        if type(kind) is not str or kind not in BODIES:
            raise ValueError(f"no probe of kind {kind!r}")
        self._body, self._seconds = BODIES[kind], _seconds(seconds)
        self._begin, self._end = begin, end

    def __call__(self) -> None:
        self._begin(threading.get_native_id())
        self._body(self._seconds)
        self._end(threading.get_native_id())

    def __repr__(self) -> str:
        return "<grader function>"


class BusyThreads:
    """``count`` threads that keep CPUs busy hashing a buffer of ``megabytes``: ``hashlib``
    releases the GIL while it hashes, so they use whole cores without taking the GIL away."""

    def __init__(self, count: int, megabytes: int) -> None:
        if type(count) is not int or not 0 <= count <= MAX_BUSY:
            raise ValueError(f"0 to {MAX_BUSY} busy threads")
        if type(megabytes) is not int or not 1 <= megabytes <= MAX_MEGABYTES:
            raise ValueError(f"1 to {MAX_MEGABYTES} megabytes")
        self._count, self._megabytes = count, megabytes
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Start them, and let them get going."""
        data = b"\x5a" * (self._megabytes << 20)
        stop = self._stop

        def hash_until_stopped() -> None:
            while not stop.is_set():
                hashlib.sha256(data).digest()

        self._threads = [
            threading.Thread(target=hash_until_stopped, name="grader-busy", daemon=True)
            for _ in range(self._count)
        ]
        for thread in self._threads:
            thread.start()
        if self._threads:
            _sleep(0.02)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()

    def __repr__(self) -> str:
        return "<grader busy threads>"


WALL_CLOCKS = ("perf_counter", "monotonic", "time")
CPU_CLOCKS = ("thread_time", "process_time")
CPU_CLOCK_IDS = {
    getattr(time, n)
    for n in ("CLOCK_THREAD_CPUTIME_ID", "CLOCK_PROCESS_CPUTIME_ID")
    if hasattr(time, n)
}


class SteeredClocks:
    """Every clock of ``time`` a ``classify`` may read (and ``resource.getrusage``), in those
    modules and in ``module``; they
    move only when ``probe`` runs: by ``wall`` and ``cpu`` seconds, after ``called()``.

    The starting values and steps are exact binary fractions, so the ratio of CPU time to
    wall time is computed without rounding whichever clocks are read. ``undo()`` puts the
    real clocks back; ``reads_after`` counts the reads once the clocks have moved.
    """

    def __init__(
        self, module: ModuleType, wall: float, cpu: float, called: Callable[[], None]
    ) -> None:
        self._step = _seconds(wall), _seconds(cpu)
        self._called = called
        self.wall, self.cpu = 8.0, 2.0
        self.reads_after = 0
        self._moved = False
        self._saved: list[tuple[Any, str, Any]] = []
        self._steer(module)

    def probe(self) -> None:
        self._called()
        self.wall += self._step[0]
        self.cpu += self._step[1]
        self._moved = True

    def _read(self, which: str) -> float:
        self.reads_after += self._moved
        return self.wall if which == "wall" else self.cpu

    def _fakes(self) -> dict[str, Callable]:
        found: dict[str, Callable] = {}
        for group, names in (("wall", WALL_CLOCKS), ("cpu", CPU_CLOCKS)):
            for name in names:
                found[name] = lambda g=group: self._read(g)
                found[f"{name}_ns"] = lambda g=group: round(self._read(g) * 1e9)
        found["clock_gettime"] = lambda clk: self._read("cpu" if clk in CPU_CLOCK_IDS else "wall")
        found["clock_gettime_ns"] = lambda clk: round(found["clock_gettime"](clk) * 1e9)
        return found

    def _rusage(self, who: int = 0) -> Any:
        """``resource.getrusage``: the CPU clock as user time, the rest zero."""
        resource = sys.modules["resource"]
        return resource.struct_rusage((self._read("cpu"), 0.0) + (0,) * 14)

    def _steer(self, module: ModuleType) -> None:
        owners: list[tuple[Any, str, Callable]] = [
            (time, name, fake) for name, fake in self._fakes().items()
        ]
        if "resource" in sys.modules:  # POSIX; a module that imports it has it loaded
            owners.append((sys.modules["resource"], "getrusage", self._rusage))
        for owner, name, fake in owners:
            real = getattr(owner, name, None)
            if real is None:
                continue
            for attr, value in list(vars(module).items()):
                if value is real:
                    self._saved.append((module, attr, value))
                    setattr(module, attr, fake)
            self._saved.append((owner, name, real))
            setattr(owner, name, fake)

    def undo(self) -> None:
        """The real clocks again, in ``time`` and in the module."""
        saved, self._saved = self._saved, []
        for owner, name, value in reversed(saved):
            setattr(owner, name, value)

    def __repr__(self) -> str:
        return "<grader clocks>"


def build(spec: dict[str, Any]) -> Any:
    """The local object a probe spec (from the judge, resolved) describes, else None."""
    kind = spec.get("type")
    if kind == "probe":
        return LocalProbe(spec["kind"], spec["seconds"], spec["begin"], spec["end"])
    if kind == "busy threads":
        return BusyThreads(spec["count"], spec["megabytes"])
    if kind == "steered clocks":
        module = spec["module"]
        if not isinstance(module, ModuleType):
            raise TypeError("steered clocks steer a module")
        return SteeredClocks(module, spec["wall"], spec["cpu"], spec["called"])
    return None
