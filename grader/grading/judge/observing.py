"""The harness's ``watch``, ``race`` and one-CPU pinning, for a module in a subject process.

The judge measures what it can itself (wall time, the service's calls, the CPUs the
subject's tasks may use); what only the student's interpreter knows (threads it left,
exceptions lost in threads, stderr, a hung call's stacks, the race amplifier) comes from
the subject's runtime (:mod:`grader.subject.watching`, :mod:`grader.subject.amplifying`).
Whether the amplifier is broken on this machine (a grader fault) or was broken by the
student's code is decided here, by a control subject that loads no student code.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Callable, Iterator
from typing import Any

from grader.amplifier import AmplifierInactive, Stats
from grader.grading.judge.subject import Subject
from grader.grading.judge.verdicts import SubjectFailed
from grader.harness import procfs
from grader.harness.checks import fail
from grader.harness.observe import Observation, observe
from grader.wire.raised import SubjectRaised

_COUNTS = [f.name for f in dataclasses.fields(Stats) if f.type in (int, "int") and f.name != "seed"]
STACKS_TIMEOUT = 5.0  # a hung call's stacks: the subject's reader thread answers at once


def watched_call(
    subject: Subject,
    fn: Callable[..., Any],
    *args: Any,
    timeout: float,
    grace: float = 0.5,
    **kwargs: Any,
) -> Observation:
    """``observe`` in the judge, with the hygiene of the call reported by the subject."""
    subject.request("watch_start", "watching a call")
    obs = observe(fn, *args, timeout=timeout, grace=0.0, **kwargs)
    obs.leftover_threads, obs.thread_exceptions, obs.stderr, obs.warnings = [], [], "", []
    if obs.hung:
        subject.call_timeout = STACKS_TIMEOUT
        with contextlib.suppress(SubjectFailed, SubjectRaised):
            obs.stacks = subject.request("stacks", "reading the stacks")
        return obs
    if isinstance(obs.error, SubjectFailed):
        raise obs.error  # the subject is gone: the test fails with the judge's verdict
    report = subject.request("watch_end", "the end of a watched call", grace=grace)
    obs.leftover_threads = list(report["leftover_threads"])
    obs.leftover_processes = list(report["leftover_processes"])
    obs.thread_exceptions = list(report["thread_exceptions"])
    obs.stderr, obs.warnings = str(report["stderr"]), list(report["warnings"])
    return obs


@contextlib.contextmanager
def amplified(
    subject: Subject, options: dict[str, Any], control: Callable[[], Subject]
) -> Iterator[Stats]:
    """The race amplifier on in the subject for the block; its statistics after it.

    A canary not caught beside the student's module is tried again in ``control()``, a
    fresh subject without it: caught there, the student's code broke the amplifier (the
    test fails); not caught there either, this machine cannot amplify (a grader fault).
    """
    try:
        subject.request("amplify", "starting the race amplifier", options=options)
    except SubjectRaised as error:
        if not error.is_a(AmplifierInactive):
            raise
        _blame_canary(control)
    stats = Stats(seed=int(options["seed"]))
    try:
        yield stats
    finally:
        connection = subject.connection
        if connection.failure is None and not connection.busy:
            counts = subject.request("amplify_stop", "stopping the amplifier")
            for name in _COUNTS:
                setattr(stats, name, int(counts.get(name, 0)))


def _blame_canary(control: Callable[[], Subject]) -> None:
    with control() as fresh:
        try:
            fresh.request("canary", "the race amplifier's canary")
        except SubjectRaised as error:
            if error.is_a(AmplifierInactive):
                raise AmplifierInactive(
                    f"{error} (and in a process without student code)"
                ) from None
            raise
    fail(
        "the race amplifier could not run beside your module (it works without it): "
        "does your code change sys.monitoring, sys.settrace or threading's hooks?"
    )


def subject_tasks(pid: int) -> list[int]:
    """Every thread of ``pid`` and of its descendants (the launcher, the subject, workers)."""
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        try:
            tasks = os.listdir(f"/proc/{current}/task")
        except OSError:
            continue
        for task in tasks:
            found.append(int(task))
            queue.extend(procfs.task_children(current, task))
    return found


def subject_interpreter(subject: Subject) -> int | None:
    """The pid of the subject's interpreter (the launcher's child when wrapped), as the judge
    sees it; None once it has ended."""
    pid = subject.child.pid
    if subject.child.wrapped:
        children = procfs.task_children(pid, pid)
        return children[0] if children else None
    return pid


def subject_pid_inside(subject: Subject) -> int | None:
    """The subject interpreter's pid as it sees itself (its pid namespace's: ``NSpid``)."""
    pid = subject_interpreter(subject)
    return None if pid is None else procfs.inner_pid(pid)


# The helpers multiprocessing starts and keeps for the process (not the student's workers).
_HELPERS = (b"multiprocessing.resource_tracker", b"multiprocessing.forkserver")


def subject_children(subject: Subject) -> set[int]:
    """The live child processes of the subject's interpreter (the judge's pids), without
    zombies and multiprocessing's own helpers."""
    pid = subject_interpreter(subject)
    found: set[int] = set()
    for child in procfs.children(pid) if pid is not None else []:
        state = procfs.read(f"/proc/{child}/stat").rsplit(")", 1)[-1].split()[:1]
        if not state or state[0] in ("Z", "X"):
            continue
        try:
            with open(f"/proc/{child}/cmdline", "rb") as fh:
                command = fh.read()
        except OSError:
            continue
        if not any(helper in command for helper in _HELPERS):
            found.add(int(child))
    return found


def subject_threads(subject: Subject) -> int:
    """The threads of the subject's own process now, counted from ``/proc`` by the judge."""
    pid = subject_interpreter(subject)
    if pid is None:
        return 0
    try:
        return len(os.listdir(f"/proc/{pid}/task"))
    except OSError:  # it has just ended
        return 0


@contextlib.contextmanager
def pinned_to_one_cpu(subject: Subject) -> Iterator[int]:
    """Every task of the subject on one CPU (threads started meanwhile inherit it)."""
    cpus = os.sched_getaffinity(0)
    cpu = min(cpus)
    tasks = subject_tasks(subject.child.pid)
    for task in tasks:
        with contextlib.suppress(ProcessLookupError):
            os.sched_setaffinity(task, {cpu})
    try:
        yield cpu
    finally:
        for task in subject_tasks(subject.child.pid):
            with contextlib.suppress(ProcessLookupError, OSError):
                os.sched_setaffinity(task, cpus)
