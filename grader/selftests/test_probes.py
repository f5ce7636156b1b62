"""Exercise 3's probes: the test reads a probe's thread from /proc, not from the probe."""

from __future__ import annotations

import os
import threading
import time
import types

import pytest

from grader.harness.probes import CpuMeter, Probe
from grader.subject.probes import BusyThreads, LocalProbe, SteeredClocks

pytestmark = pytest.mark.skipif(not os.path.exists("/proc/self/task"), reason="Linux /proc")


def test_the_meter_reads_a_thread_of_the_process_by_its_native_id():
    meter = CpuMeter("self")
    before = meter.thread(threading.get_native_id())
    deadline = time.thread_time() + 0.05
    while time.thread_time() < deadline:
        pass
    after = meter.thread(threading.get_native_id())
    assert before is not None and after is not None
    assert after[0] - before[0] >= 0.04  # ran; the second figure is the run-queue wait
    assert meter.process() > 0


@pytest.mark.parametrize("native", [0, -1, 2**40, "1", None, 1.0])
def test_a_thread_not_of_the_process_reads_as_none(native):
    assert CpuMeter("self").thread(native) is None


def test_a_probe_names_its_thread_and_the_test_measures_it():
    waiting, computing = Probe("sleep", 0.1, CpuMeter("self")), Probe("text", 0.1, CpuMeter("self"))
    waiting()
    computing()
    assert waiting.calls == computing.calls == 1
    assert waiting.threads == [threading.current_thread()] and not waiting.foreign
    assert waiting.wall >= 0.1 and waiting.thread_share < 0.05
    # Running or queued for a CPU nearly all along, however loaded the machine is.
    assert computing.thread_share + computing.queued_share >= 0.5


def test_a_probe_told_of_another_thread_is_foreign():
    probe = Probe("sleep", 0.0, CpuMeter("self"))
    LocalProbe("sleep", 0.0, probe._begin, lambda _: probe._end(2**40))()
    assert probe.foreign


@pytest.mark.parametrize(("kind", "seconds"), [("rm -rf", 0.1), ("sleep", -1), ("sleep", 60)])
def test_a_probe_spec_is_checked(kind, seconds):
    with pytest.raises(ValueError):
        LocalProbe(kind, seconds, print, print)


def test_busy_threads_compute_beside_the_test_and_stop():
    busy, meter = BusyThreads(1, 1), CpuMeter("self")
    before = meter.process()
    busy.start()
    time.sleep(0.1)
    busy.stop()
    assert meter.process() - before >= 0.03
    assert not [t for t in threading.enumerate() if t.name == "grader-busy"]


def test_steered_clocks_move_only_with_the_probe_and_are_put_back():
    module = types.ModuleType("steered")
    module.perf_counter, module.thread_time = time.perf_counter, time.thread_time
    real = time.perf_counter
    called = []
    clocks = SteeredClocks(module, 2.5, 0.25, lambda: called.append(1))
    try:
        wall, cpu = module.perf_counter(), time.thread_time_ns()
        clocks.probe()
        assert module.perf_counter() - wall == 2.5
        assert time.thread_time_ns() - cpu == 250_000_000
        assert called == [1] and clocks.reads_after == 2
    finally:
        clocks.undo()
    assert time.perf_counter is real and module.perf_counter is real


@pytest.mark.parametrize("kind", ["queue", "socket"])
def test_waiting_probes_wait_without_computing(kind):
    probe = Probe(kind, 0.05, CpuMeter("self"))
    probe()
    assert probe.calls == 1 and probe.wall >= 0.05 and probe.thread_share < 0.5


def test_steered_clocks_cover_clock_ids_and_getrusage_through_the_wrapper():
    import resource

    from grader.harness.probes import Steered
    from grader.subject.probes import build

    module = types.ModuleType("steered")
    module.getrusage = resource.getrusage
    spec = {"type": "steered clocks", "module": module, "wall": 2.5, "cpu": 0.5}
    steered = Steered(lambda called: build({**spec, "called": called}))
    try:
        wall = time.clock_gettime(time.CLOCK_MONOTONIC)
        cpu = module.getrusage(resource.RUSAGE_SELF).ru_utime
        steered.probe()
        assert time.clock_gettime(time.CLOCK_MONOTONIC) - wall == 2.5
        assert time.clock_gettime_ns(time.CLOCK_THREAD_CPUTIME_ID) == 2_500_000_000
        assert module.getrusage(resource.RUSAGE_SELF).ru_utime - cpu == 0.5
        assert steered.callers == [threading.current_thread()] and steered.reads_after == 3
    finally:
        steered.undo()
    assert steered.undone and module.getrusage is resource.getrusage
    with pytest.raises(TypeError):
        build({**spec, "module": "time", "called": print})
    assert build({"type": "chunk probe"}) is None
    busy = build({"type": "busy threads", "count": 0, "megabytes": 1})
    busy.start()
    busy.stop()
    for bad in ((5, 1), (1, 0), ("1", 1)):
        with pytest.raises(ValueError):
            BusyThreads(*bad)


def test_procfs_reads_nothing_of_a_process_that_is_gone():
    from grader.harness import procfs

    assert procfs.read("/proc/0/status") == ""
    assert procfs.children(0) == []
    assert procfs.inner_pid(0) is None
    assert procfs.inner_pid("self") == os.getpid()
