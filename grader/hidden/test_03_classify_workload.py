"""Hidden tests for exercise 3, classify_workload (never released to students).

Every function given to ``classify`` is a probe (``grader.harness.probes``): it waits or
computes in the thread that calls it, where the module runs, and the test reads that
thread's CPU clock itself from ``/proc`` (``cpu_meter``): the share of the wall time it ran,
and the share it spent ready to run but queued for a CPU. The contract's threshold is 0.1.
Waiting functions stay near 0 (below 0.01 as measured); a computing function is judged only
on a run where its thread got at least 0.15 of a core, 1.5 × the threshold (the solution's
interval differs from the probe's by a few instructions, plus at most one preemption).

A computing thread that got less is judged by what held it back, from the kernel's books:
queued for a CPU while the module's process used no more than the test's own busy threads,
the machine was oversubscribed, and the run is repeated (after a few such runs the test is
reported as ungradable here instead of failing a correct solution); anything else (not
queued, so blocked, e.g. on the GIL; or the module's own threads computing beside it) is
the submission's doing, and fails.

The busy threads hash large buffers: ``hashlib`` releases the GIL while it hashes, so they
use whole cores (which fools ``time.process_time``) without taking the GIL away from the
thread being classified.
"""

import random
import threading
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import pytest

from grader.harness.calling import is_instance, same, type_name
from grader.harness.checks import fail, raised, returned
from grader.harness.probes import CpuMeter, Probe

THRESHOLD = 0.1  # stated in the stub
CONCLUSIVE_CPU_SHARE = 0.15  # a computing run counts only if its thread got >= 15% of a core
CONCLUSIVE_IO_SHARE = 0.05  # a waiting run counts only if its thread used <= 5% (always, so far)
MISLEADING_PROCESS_SHARE = 0.2  # with busy threads, process CPU time should be >= 0.2 × wall
STARVED_QUEUED_SHARE = 0.5  # a thread queued for a CPU half the time: the machine is too busy
OWN_WORK_MARGIN = 0.25  # the process's CPU beyond the probe and the busy threads (ticks: 10 ms)
CPU_ATTEMPTS = 4
IO_ATTEMPTS = 3


# --- judging ---------------------------------------------------------------------------------


def classify_in_this_thread(exercise, probe: Probe) -> tuple[object, object]:
    return exercise.classify(probe), threading.current_thread()


class Classifying:
    """``classify`` of probes, each run watched, beside the test's busy threads if asked."""

    def __init__(self, exercise, watch, meter: CpuMeter, busy_threads) -> None:
        self.exercise, self.watch, self.meter, self.busy_threads = (
            exercise,
            watch,
            meter,
            busy_threads,
        )

    def probe(self, kind: str, seconds: float) -> Probe:
        return Probe(kind, seconds, self.meter)

    def once(self, probe: Probe, busy: int, megabytes: int) -> str:
        with self.busy_threads(busy, megabytes):
            obs = self.watch(classify_in_this_thread, self.exercise, probe)
        answer, caller = returned(obs, "classify")
        if answer not in ("io", "cpu"):
            fail(f'classify returned {answer!r}: it must return the string "io" or "cpu"')
        if probe.calls != 1:
            fail(f"classify called func {probe.calls} times: call it exactly once")
        if probe.threads != [caller] or probe.foreign:
            fail(
                "classify ran func in another thread: run it in the calling thread, whose CPU "
                "clock time.thread_time() reads"
            )
        return answer


@pytest.fixture
def classifying(exercise, watch, cpu_meter, busy_threads) -> Classifying:
    return Classifying(exercise, watch, cpu_meter, busy_threads)


BUSY_NOTE = (
    "; meanwhile another thread of this process was busy computing: count only the "
    "calling thread's CPU time (time.thread_time), not the whole process's"
)


def expect_io(classifying: Classifying, kind: str, seconds: float, busy: int) -> None:
    for _ in range(IO_ATTEMPTS):
        probe = classifying.probe(kind, seconds)
        answer = classifying.once(probe, busy, 8)
        if answer == "cpu" and probe.thread_share <= CONCLUSIVE_IO_SHARE:
            fail(
                f'classify said "cpu" for a function {probe.what}, whose thread was on the CPU '
                f"{probe.thread_share:.0%} of the time: waiting for I/O uses almost no CPU time"
                + (BUSY_NOTE if busy else "")
            )
        if answer == "io" and (not busy or probe.process_share >= MISLEADING_PROCESS_SHARE):
            return
        # Not a fair run (or the busy threads got too little CPU to mislead): once more.


def held_back_by_the_machine(probe: Probe, busy: int) -> bool:
    """Whether a computing probe's thread got little CPU because the machine was busy: it
    waited in the kernel's run queue, and the module's process used no more CPU than the
    probe and the test's busy threads (so the competition came from outside it)."""
    own_work = probe.process_share - probe.thread_share - busy
    return probe.queued_share >= STARVED_QUEUED_SHARE and own_work <= OWN_WORK_MARGIN


def expect_cpu(classifying: Classifying, kind: str, seconds: float, busy: int) -> None:
    shares = []
    for _ in range(CPU_ATTEMPTS):
        probe = classifying.probe(kind, seconds)
        answer = classifying.once(probe, busy, 32)
        if answer == "cpu":
            return
        if probe.thread_share >= CONCLUSIVE_CPU_SHARE:
            fail(
                f'classify said "io" for a function {probe.what}, whose thread was on the CPU '
                f"{probe.thread_share:.0%} of the time: that is CPU-bound work (the threshold "
                f"is {THRESHOLD:.0%} of the wall time)"
            )
        if not held_back_by_the_machine(probe, busy):
            fail(
                f'classify said "io" for a function {probe.what}, whose thread ran only '
                f"{probe.thread_share:.0%} of the time although the machine had a CPU for it: "
                "does your code keep the GIL or the CPUs busy while func runs (other threads, "
                "a switch interval, a pinned CPU)? Call func and read the two clocks, nothing "
                "more"
            )
        shares.append(f"{probe.thread_share:.0%}")
    pytest.skip(
        "the machine was too busy to classify CPU-bound work fairly: the computing thread "
        f"got only {', '.join(shares)} of a core"
    )


def durations(seed: int) -> tuple[float, float]:
    rng = random.Random(seed)
    return rng.uniform(0.12, 0.2), rng.uniform(0.12, 0.2)


# --- classify: each test needs both answers, so a constant answer earns nothing ------------------


@pytest.mark.correctness
@pytest.mark.weight(2)
@pytest.mark.parametrize(
    ("waiting", "computing"), [("sleep", "arithmetic"), ("queue", "text"), ("socket", "arithmetic")]
)
def test_tells_waiting_from_computing(classifying, race_seed, waiting, computing):
    """Waiting (a timer, a queue, a socket) is I/O-bound; a pure-Python loop is CPU-bound"""
    io_seconds, cpu_seconds = durations(race_seed)
    expect_io(classifying, waiting, io_seconds, busy=0)
    expect_cpu(classifying, computing, cpu_seconds, busy=0)


@pytest.mark.correctness
@pytest.mark.weight(2)
@pytest.mark.parametrize(
    ("waiting", "computing"), [("sleep", "text"), ("queue", "arithmetic"), ("socket", "text")]
)
def test_tells_them_apart_beside_a_busy_thread(classifying, race_seed, waiting, computing):
    """The same, while another thread of the process computes"""
    io_seconds, cpu_seconds = durations(race_seed)
    expect_io(classifying, waiting, io_seconds, busy=2)
    expect_cpu(classifying, computing, cpu_seconds, busy=1)


# --- pick_executor -------------------------------------------------------------------------------


def check_pool(pool, expected: type, kind: str, workers: int) -> None:
    try:
        assert is_instance(pool, expected), (
            f'pick_executor("{kind}", {workers}) returned {type_name(pool)}, expected a '
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
            f"pick_executor({kind!r}, {workers}) raised {type_name(error)} instead of ValueError"
        )


@pytest.mark.correctness
def test_each_call_makes_a_new_pool(exercise, watch):
    """Each call returns a new pool, usable after an earlier one was shut down"""
    for kind in ("io", "cpu"):
        first = returned(watch(exercise.pick_executor, kind, 2), "pick_executor")
        first.shutdown(wait=True)
        second = returned(watch(exercise.pick_executor, kind, 2), "pick_executor")
        try:
            if same(second, first):
                fail(
                    f'pick_executor("{kind}", 2) returned the same pool twice: each call must '
                    "make a new one, since the caller shuts its pool down when done"
                )
        finally:
            second.shutdown(wait=True)


# --- the threshold's boundary, with clocks the test controls -------------------------------------


@pytest.mark.correctness
@pytest.mark.parametrize(
    ("cpu", "expected"), [(0.25, "cpu"), (0.249, "io"), (0.0, "io"), (2.5, "cpu")]
)
def test_threshold_is_at_least_a_tenth(exercise, watch, steered_clocks, cpu, expected):
    """CPU time of exactly 0.1 × the wall time is CPU-bound; just below it is I/O-bound"""
    clocks = steered_clocks(wall=2.5, cpu=cpu)
    try:
        obs = watch(classify_in_this_thread, exercise, clocks.probe)
    finally:
        clocks.undo()
    answer, caller = returned(obs, "classify")
    if clocks.callers != [caller]:
        fail("classify must call func exactly once, in the calling thread")
    if not clocks.reads_after:
        fail(
            "classify read no clock after func returned, of those it may use (the time "
            "module's, resource.getrusage): measure with time.perf_counter() and "
            "time.thread_time(), as the exercise says"
        )
    if answer != expected:
        fail(
            f'classify said "{answer}" for a function whose thread was on the CPU for '
            f'{cpu / 2.5:.2%} of the wall time: the contract says "cpu" when the CPU time is at '
            'least 0.1 × the wall time (0.1 itself included), "io" below it'
        )
