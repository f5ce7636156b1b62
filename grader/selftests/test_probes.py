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
