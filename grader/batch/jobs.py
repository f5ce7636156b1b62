"""The worker side of a batch: a :class:`Job` (a submission as bytes) in, a :class:`JobResult` out.

A worker grades one submission at a time with ``jobs=1`` (its exercises one after
another): with W workers at most W hidden-test processes run at once, the same load
as ``grader grade`` with its default of one exercise per CPU, so timing tests see the
machine they were calibrated on. A local worker stopped (SIGTERM) kills its
hidden-test children and removes its temporary folders before it exits.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from grader import catalogue as catalogue_mod
from grader.batch.contents import materialize
from grader.batch.inputs import safe_name
from grader.results import GradeReport


@dataclass
class Job:
    """One submission to grade: its modules as bytes, the exercises, the race seed."""

    student: str
    files: dict[str, bytes]
    only: tuple[str, ...] | None
    seed: int


@dataclass
class JobResult:
    """A graded report, or why there is none; which worker graded it, and how long it took."""

    student: str
    report: GradeReport | None
    error: str | None = None
    worker: str = ""
    wall: float = 0.0


_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def _worker_key() -> str:
    try:  # on a Dask worker: one submission at a time per worker, whatever its thread count
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):
        return f"pid-{os.getpid()}"


def grade_job(job: Job) -> JobResult:
    """Grade one submission (runs in a worker: a local process or a Dask worker)."""
    from grader.grading.scoring import grade

    key = _worker_key()
    with _LOCKS_GUARD:
        lock = _LOCKS.setdefault(key, threading.Lock())
    where = f"{socket.gethostname()}:{key}"
    with lock:
        started = time.perf_counter()
        try:
            with tempfile.TemporaryDirectory(prefix="grader-batch-") as tmp:
                _CURRENT_TMP[:] = [tmp]
                root = Path(tmp) / safe_name(job.student)
                root.mkdir()
                materialize(job.files, root)
                report = grade(root, catalogue_mod.load(), only=job.only, seed=job.seed, jobs=1)
        except Exception as exc:  # a grader fault: the row says why, the batch goes on
            return JobResult(
                job.student, None, f"{type(exc).__name__}: {exc}", where,
                time.perf_counter() - started,
            )  # fmt: skip
    report.submission = job.student
    return JobResult(job.student, report, None, where, time.perf_counter() - started)


_CURRENT_TMP: list[str] = []  # the worker's submission folder, removed if it is stopped


def _stop_worker(signum, frame) -> None:  # pragma: no cover - runs in a dying worker
    """SIGTERM in a local worker: kill its hidden-test children (each leads its own process
    group, see :mod:`grader.grading.runner`), remove its temporary folders, and exit at once."""
    from grader import cleanup

    with contextlib.suppress(OSError):
        me = str(os.getpid())
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                with contextlib.suppress(OSError, IndexError):
                    with open(f"/proc/{entry}/stat") as fh:
                        ppid = fh.read().rsplit(")", 1)[1].split()[1]
                    if ppid == me:
                        os.killpg(int(entry), signal.SIGKILL)
    cleanup.remove_pending()  # the stages of the exercises being graded (hidden copies first)
    for tmp in _CURRENT_TMP:
        cleanup.remove_tree(tmp)
    os._exit(128 + signum)


def init_local_worker() -> None:
    """Set up a local worker process (signals, and stopping when its parent dies)."""
    # Ctrl-C is the parent's to handle: it stops handing out work, writes what is done and
    # terminates the workers (SIGTERM), which stop their children at once.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _stop_worker)
    if sys.platform == "linux":  # the parent killed (kill -9): the workers stop too
        with contextlib.suppress(Exception):
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
