"""The plugin's fixtures that have a twin in the judge (``grader.grading.judge.fixtures``,
same signatures): in-process they act on this process, where the module under test runs.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from grader.harness.descendants import Descendants
from grader.harness.probes import CpuMeter, Steered
from grader.locks.recorder import LockOrderRecorder
from grader.subject import local as local_objects


@pytest.fixture
def pin_to_one_cpu() -> Callable[[], contextlib.AbstractContextManager[int]]:
    """``with pin_to_one_cpu():`` the test's process runs on one CPU (skipped where the OS
    cannot pin); threads started inside the block inherit it."""
    if not hasattr(os, "sched_setaffinity"):
        pytest.skip("this OS cannot pin a process to one CPU")

    @contextlib.contextmanager
    def pinned() -> Iterator[int]:
        saved = os.sched_getaffinity(0)
        os.sched_setaffinity(0, {min(saved)})
        try:
            yield min(saved)
        finally:
            os.sched_setaffinity(0, saved)

    return pinned


@pytest.fixture
def keep() -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``keep(exercise.fn)(*args)``: the call's value as the very object, whose identity and
    later changes the test can see (in-process, the function itself; in the judge, the value
    stays in the subject: ``list(kept)`` reads it as it is now, ``is`` compares identity)."""
    return lambda function: function


@pytest.fixture
def live_threads() -> Callable[[], int]:
    """``live_threads()``: how many threads the process running the student's code has now."""
    return threading.active_count


@pytest.fixture
def thread_set() -> Callable[[], frozenset[object]]:
    """``thread_set()``: the threads alive in the student's process now, each as an identity
    that ``caller()`` (``grader.harness.calling``) gives for calls from that thread."""
    return lambda: frozenset(threading.enumerate())


@pytest.fixture
def lock_recorder() -> Callable[..., Any]:
    """``lock_recorder(**options)``: a new ``LockOrderRecorder`` (``grader.locks``) where the
    student's code takes its locks (in the judge, made in the subject; its methods are
    called there)."""
    return LockOrderRecorder


@pytest.fixture
def cpu_meter() -> CpuMeter:
    """The CPU clocks of the student's process's threads, read from ``/proc``."""
    return CpuMeter("self")


@pytest.fixture
def busy_threads(local: Callable[[dict[str, Any]], Any]) -> Callable[..., Any]:
    """``with busy_threads(count, megabytes):`` threads of the student's process keep CPUs
    busy hashing (``grader.subject.probes.BusyThreads``, made there by ``local``)."""

    @contextlib.contextmanager
    def busy(count: int, megabytes: int) -> Iterator[None]:
        threads = local({"type": "busy threads", "count": count, "megabytes": megabytes})
        threads.start()
        try:
            yield
        finally:
            threads.stop()

    return busy


@pytest.fixture
def steered_clocks(
    exercise: Any, local: Callable[[dict[str, Any]], Any]
) -> Iterator[Callable[[float, float], Steered]]:
    """``steered_clocks(wall, cpu)``: the time module's clocks, in the student's process and
    module, move only when the returned ``probe`` runs (``grader.subject.probes``); undone
    by the test, else after it."""
    made: list[Steered] = []

    def steer(wall: float, cpu: float) -> Steered:
        spec = {"type": "steered clocks", "module": exercise, "wall": wall, "cpu": cpu}
        made.append(Steered(lambda called: local({**spec, "called": called})))
        return made[-1]

    yield steer
    for steered in made:
        if not steered.undone:
            steered.undo()


@pytest.fixture
def local() -> Callable[[dict[str, Any]], Any]:
    """``local(spec)``: a stand-in made where the module runs (``grader.subject.local.build``:
    here, in-process; in the judge, in the subject, as a remote object)."""
    return local_objects.build


@pytest.fixture
def module_pid() -> int:
    """The pid of the process the student's module runs in, as that process sees itself."""
    return os.getpid()


@pytest.fixture
def child_processes() -> Callable[[], set[int]]:
    """``child_processes()``: the pids of the live child processes of the student's process
    (``multiprocessing``'s own helpers left out)."""
    return lambda: {p.pid for p in multiprocessing.active_children() if p.pid is not None}


@pytest.fixture
def chunk_probe(local: Callable[[dict[str, Any]], Any]) -> Callable[..., Any]:
    """``with chunk_probe(cost=..., rendezvous=...) as probe:`` exercise 13's probe, made
    where the module runs (``grader.subject.chunks``) and closed after the block."""

    @contextlib.contextmanager
    def make(**options: Any) -> Iterator[Any]:
        probe = local({"type": "chunk probe", **options})
        try:
            yield probe
        finally:
            try:
                probe.close()
            except Exception:  # its folder goes with the process's private folder anyway
                pass
            except BaseException as error:  # the judge's verdict on a subject gone
                if isinstance(error, KeyboardInterrupt):
                    raise

    return make


@pytest.fixture
def descendants() -> Callable[[], Descendants]:
    """``with descendants() as seen:`` the processes the student's process starts within
    the block, sampled from ``/proc`` (``seen.pids``, as they see themselves)."""
    return lambda: Descendants("self", every=0.005)
