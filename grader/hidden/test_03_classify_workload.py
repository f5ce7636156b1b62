"""Hidden tests for exercise 3, classify_workload (never released to students).

Every function given to ``classify`` measures itself: the share of its wall
time that its thread spent on the CPU, and the share for the whole process.
The contract's threshold is 0.1. Waiting functions stay near 0 (below 0.01 as
measured); a computing function is judged only on a run where its own share
was at least 0.15, 1.5 × the threshold (the solution's interval differs from
the probe's by a few instructions, plus at most one preemption): on a machine
so oversubscribed that a computing thread gets less than 15% of a core, the
run is repeated, and after a few such runs the test is reported as ungradable
here instead of failing a correct solution.

The busy threads hash large buffers: ``hashlib`` releases the GIL while it
hashes, so they use whole cores (which fools ``time.process_time``) without
taking the GIL away from the thread being classified.
"""

import hashlib
import queue
import random
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager

import pytest

from grader.harness.checks import fail, raised, returned

THRESHOLD = 0.1  # stated in the stub
CONCLUSIVE_CPU_SHARE = 0.15  # a computing run counts only if its thread got >= 15% of a core
CONCLUSIVE_IO_SHARE = 0.05  # a waiting run counts only if its thread used <= 5% (always, so far)
MISLEADING_PROCESS_SHARE = 0.2  # with busy threads, process CPU time should be >= 0.2 × wall
CPU_ATTEMPTS = 4
IO_ATTEMPTS = 3

_clock = time.perf_counter
_thread_time = time.thread_time
_process_time = time.process_time
_sleep = time.sleep


class Probe:
    """A function for ``classify`` that records how it was called and its own CPU shares."""

    def __init__(self, body: Callable[[], None], what: str) -> None:
        self.body = body
        self.what = what
        self.calls = 0
        self.threads: list[int] = []
        self.wall = 0.0
        self.thread_share = 0.0
        self.process_share = 0.0

    def __call__(self) -> None:
        self.calls += 1
        self.threads.append(threading.get_ident())
        wall, cpu, process = _clock(), _thread_time(), _process_time()
        self.body()
        self.wall = _clock() - wall
        if self.wall > 0:
            self.thread_share = (_thread_time() - cpu) / self.wall
            self.process_share = (_process_time() - process) / self.wall


# --- what the probes do ----------------------------------------------------------------------


def sleeping(seconds: float) -> Probe:
    return Probe(lambda: _sleep(seconds), f"sleeping {seconds:.2f} s")


def waiting_on_a_queue(seconds: float) -> Probe:
    def body() -> None:
        q: queue.Queue[int] = queue.Queue()
        timer = threading.Timer(seconds, q.put, args=(1,))
        timer.start()
        q.get(timeout=10)
        timer.join()

    return Probe(body, f"waiting {seconds:.2f} s for an item on a queue")


def waiting_on_a_socket(seconds: float) -> Probe:
    def body() -> None:
        here, there = socket.socketpair()
        with here, there:
            timer = threading.Timer(seconds, there.sendall, args=(b"ping",))
            timer.start()
            here.settimeout(10)
            here.recv(4)
            timer.join()

    return Probe(body, f"waiting {seconds:.2f} s for data on a socket")


def cpu_seconds_of(kernel: Callable[[], object], seconds: float) -> Callable[[], None]:
    """Repeat ``kernel`` until this thread has used ``seconds`` of CPU (or 3 s have passed)."""

    def body() -> None:
        start, wall = _thread_time(), _clock()
        while _thread_time() - start < seconds and _clock() - wall < 3.0:
            kernel()

    return body


def arithmetic() -> int:
    x = 1
    for i in range(2000):
        x = (x * 31 + i) % 1_000_003
    return x


def text_building() -> int:
    words = {}
    for i in range(500):
        key = f"w{i % 97}-{i * i % 13}"
        words[key] = words.get(key, "") + str(i)[-1]
    return len("".join(sorted(words)))


def computing_arithmetic(seconds: float) -> Probe:
    return Probe(cpu_seconds_of(arithmetic, seconds), f"computing arithmetic for {seconds:.2f} s")


def computing_text(seconds: float) -> Probe:
    return Probe(cpu_seconds_of(text_building, seconds), f"building strings for {seconds:.2f} s")


@contextmanager
def busy_threads(count: int, megabytes: int) -> Iterator[None]:
    """``count`` threads of this process that keep CPUs busy hashing, mostly without the GIL."""
    if count == 0:
        yield
        return
    data = b"\x5a" * (megabytes << 20)
    stop = threading.Event()

    def hash_until_stopped() -> None:
        while not stop.is_set():
            hashlib.sha256(data).digest()

    threads = [threading.Thread(target=hash_until_stopped, daemon=True) for _ in range(count)]
    for t in threads:
        t.start()
    _sleep(0.02)  # let them get going
    try:
        yield
    finally:
        stop.set()
        for t in threads:
            t.join()


# --- judging ---------------------------------------------------------------------------------


def classify_in_this_thread(exercise, probe: Probe) -> tuple[object, int]:
    return exercise.classify(probe), threading.get_ident()


def classify_once(exercise, watch, probe: Probe, busy: int, megabytes: int) -> str:
    with busy_threads(busy, megabytes):
        obs = watch(classify_in_this_thread, exercise, probe)
    answer, caller = returned(obs, "classify")
    if answer not in ("io", "cpu"):
        fail(f'classify returned {answer!r}: it must return the string "io" or "cpu"')
    if probe.calls != 1:
        fail(f"classify called func {probe.calls} times: call it exactly once")
    if probe.threads != [caller]:
        fail(
            "classify ran func in another thread: run it in the calling thread, whose CPU "
            "clock time.thread_time() reads"
        )
    return answer


BUSY_NOTE = (
    "; meanwhile another thread of this process was busy computing: count only the "
    "calling thread's CPU time (time.thread_time), not the whole process's"
)


def expect_io(exercise, watch, make: Callable[[], Probe], busy: int) -> None:
    for _ in range(IO_ATTEMPTS):
        probe = make()
        answer = classify_once(exercise, watch, probe, busy, 8)
        if answer == "cpu" and probe.thread_share <= CONCLUSIVE_IO_SHARE:
            fail(
                f'classify said "cpu" for a function {probe.what}, whose thread was on the CPU '
                f"{probe.thread_share:.0%} of the time: waiting for I/O uses almost no CPU time"
                + (BUSY_NOTE if busy else "")
            )
        if answer == "io" and (not busy or probe.process_share >= MISLEADING_PROCESS_SHARE):
            return
        # Not a fair run (or the busy threads got too little CPU to mislead): once more.


def expect_cpu(exercise, watch, make: Callable[[], Probe], busy: int) -> None:
    shares = []
    for _ in range(CPU_ATTEMPTS):
        probe = make()
        answer = classify_once(exercise, watch, probe, busy, 32)
        if answer == "cpu":
            return
        if probe.thread_share >= CONCLUSIVE_CPU_SHARE:
            fail(
                f'classify said "io" for a function {probe.what}, whose thread was on the CPU '
                f"{probe.thread_share:.0%} of the time: that is CPU-bound work (the threshold "
                f"is {THRESHOLD:.0%} of the wall time)"
            )
        shares.append(f"{probe.thread_share:.0%}")
    pytest.skip(
        "the machine was too busy to classify CPU-bound work fairly: the computing thread "
        f"got only {', '.join(shares)} of a core"
    )


def durations(seed: int) -> tuple[float, float]:
    rng = random.Random(seed)
    return rng.uniform(0.12, 0.2), rng.uniform(0.12, 0.2)


IO_PROBES = {"sleep": sleeping, "queue": waiting_on_a_queue, "socket": waiting_on_a_socket}
CPU_PROBES = {"arithmetic": computing_arithmetic, "text": computing_text}


# --- classify: each test needs both answers, so a constant answer earns nothing ------------------


@pytest.mark.correctness
@pytest.mark.weight(2)
@pytest.mark.parametrize(
    ("waiting", "computing"), [("sleep", "arithmetic"), ("queue", "text"), ("socket", "arithmetic")]
)
def test_tells_waiting_from_computing(exercise, watch, race_seed, waiting, computing):
    """Waiting (a timer, a queue, a socket) is I/O-bound; a pure-Python loop is CPU-bound"""
    io_seconds, cpu_seconds = durations(race_seed)
    expect_io(exercise, watch, lambda: IO_PROBES[waiting](io_seconds), busy=0)
    expect_cpu(exercise, watch, lambda: CPU_PROBES[computing](cpu_seconds), busy=0)


@pytest.mark.correctness
@pytest.mark.weight(2)
@pytest.mark.parametrize(
    ("waiting", "computing"), [("sleep", "text"), ("queue", "arithmetic"), ("socket", "text")]
)
def test_tells_them_apart_beside_a_busy_thread(exercise, watch, race_seed, waiting, computing):
    """The same, while another thread of the process computes"""
    io_seconds, cpu_seconds = durations(race_seed)
    expect_io(exercise, watch, lambda: IO_PROBES[waiting](io_seconds), busy=2)
    expect_cpu(exercise, watch, lambda: CPU_PROBES[computing](cpu_seconds), busy=1)


# --- pick_executor -------------------------------------------------------------------------------


def check_pool(pool, expected: type, kind: str, workers: int) -> None:
    try:
        assert isinstance(pool, expected), (
            f'pick_executor("{kind}", {workers}) returned {type(pool).__name__}, expected a '
            f"{expected.__name__}"
            + (": threads do not compute in parallel under the GIL" if kind == "cpu" else "")
        )
        got = getattr(pool, "_max_workers", None)
        assert got == workers, (
            f'pick_executor("{kind}", {workers}) made a pool of {got} workers instead of {workers}'
        )
    finally:
        if hasattr(pool, "shutdown"):
            pool.shutdown(wait=True)


@pytest.mark.correctness
def test_io_gets_a_thread_pool(exercise, watch, race_seed):
    """I/O-bound work gets a thread pool with the requested number of workers"""
    for workers in (1, random.Random(race_seed).randrange(2, 33)):
        pool = returned(watch(exercise.pick_executor, "io", workers), "pick_executor")
        check_pool(pool, ThreadPoolExecutor, "io", workers)


@pytest.mark.correctness
def test_cpu_gets_a_process_pool(exercise, watch, race_seed):
    """CPU-bound work gets a process pool with the requested number of workers"""
    for workers in (1, random.Random(race_seed).randrange(2, 9)):
        pool = returned(watch(exercise.pick_executor, "cpu", workers), "pick_executor")
        check_pool(pool, ProcessPoolExecutor, "cpu", workers)


BAD_ARGUMENTS = [("gpu", 2), ("IO", 2), ("", 1), ("io", 0), ("cpu", 0), ("cpu", -3)]


@pytest.mark.correctness
def test_bad_arguments_raise_value_error(exercise, watch):
    """An unknown kind or fewer than one worker raises ValueError"""
    for kind, workers in BAD_ARGUMENTS:
        obs = watch(exercise.pick_executor, kind, workers)
        if obs.error is None and not obs.hung and hasattr(obs.value, "shutdown"):
            obs.value.shutdown(wait=True)
        error = raised(obs, f"pick_executor({kind!r}, {workers})")
        assert isinstance(error, ValueError), (
            f"pick_executor({kind!r}, {workers}) raised {type(error).__name__} instead of "
            "ValueError"
        )


@pytest.mark.correctness
def test_each_call_makes_a_new_pool(exercise, watch):
    """Each call returns a new pool, usable after an earlier one was shut down"""
    for kind in ("io", "cpu"):
        first = returned(watch(exercise.pick_executor, kind, 2), "pick_executor")
        first.shutdown(wait=True)
        second = returned(watch(exercise.pick_executor, kind, 2), "pick_executor")
        try:
            if second is first:
                fail(
                    f'pick_executor("{kind}", 2) returned the same pool twice: each call must '
                    "make a new one, since the caller shuts its pool down when done"
                )
        finally:
            second.shutdown(wait=True)


# --- the threshold's boundary, with clocks the test controls -------------------------------------

WALL_CLOCKS = ("perf_counter", "monotonic", "time")
CPU_CLOCKS = ("thread_time", "process_time")
CPU_CLOCK_IDS = {
    getattr(time, n)
    for n in ("CLOCK_THREAD_CPUTIME_ID", "CLOCK_PROCESS_CPUTIME_ID")
    if hasattr(time, n)
}


class SteeredClocks:
    """Every clock of ``time`` a ``classify`` may read; they move only when the probe runs.

    The starting values and steps are exact binary fractions, so the ratio of
    CPU time to wall time is computed without rounding whichever clocks are read.
    """

    def __init__(self) -> None:
        self.wall, self.cpu = 8.0, 2.0
        self.reads_after = 0
        self.moved = False

    def read(self, which: str) -> float:
        self.reads_after += self.moved
        return self.wall if which == "wall" else self.cpu

    def fakes(self) -> dict[str, Callable]:
        found: dict[str, Callable] = {}
        for group, names in (("wall", WALL_CLOCKS), ("cpu", CPU_CLOCKS)):
            for name in names:
                found[name] = lambda g=group: self.read(g)
                found[f"{name}_ns"] = lambda g=group: round(self.read(g) * 1e9)
        found["clock_gettime"] = lambda clk: self.read("cpu" if clk in CPU_CLOCK_IDS else "wall")
        found["clock_gettime_ns"] = lambda clk: round(found["clock_gettime"](clk) * 1e9)
        return found

    def probe(self, wall: float, cpu: float) -> Probe:
        def body() -> None:
            self.wall += wall
            self.cpu += cpu
            self.moved = True

        return Probe(body, f"whose thread ran {cpu:g} s of CPU in {wall:g} s")


def steer_clocks(monkeypatch, exercise, clocks: SteeredClocks) -> None:
    """Replace the clocks in ``time`` and any the exercise module imported by name."""
    for name, fake in clocks.fakes().items():
        real = getattr(time, name, None)
        if real is None:
            continue
        monkeypatch.setattr(time, name, fake)
        for attr, value in list(vars(exercise).items()):
            if value is real:
                monkeypatch.setattr(exercise, attr, fake)


@pytest.mark.correctness
@pytest.mark.parametrize(
    ("cpu", "expected"), [(0.25, "cpu"), (0.249, "io"), (0.0, "io"), (2.5, "cpu")]
)
def test_threshold_is_at_least_a_tenth(exercise, watch, monkeypatch, cpu, expected):
    """CPU time of exactly 0.1 × the wall time is CPU-bound; just below it is I/O-bound"""
    clocks = SteeredClocks()
    probe = clocks.probe(wall=2.5, cpu=cpu)
    steer_clocks(monkeypatch, exercise, clocks)
    answer, caller = returned(watch(classify_in_this_thread, exercise, probe), "classify")
    monkeypatch.undo()
    if probe.calls != 1 or probe.threads != [caller]:
        fail("classify must call func exactly once, in the calling thread")
    if not clocks.reads_after:
        pytest.skip("classify reads no clock of the time module that this test can steer")
    if answer != expected:
        fail(
            f'classify said "{answer}" for a function whose thread was on the CPU for '
            f'{cpu / 2.5:.2%} of the wall time: the contract says "cpu" when the CPU time is at '
            'least 0.1 × the wall time (0.1 itself included), "io" below it'
        )
