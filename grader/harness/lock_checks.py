"""The verdicts of a lock-order test: a deadlock or a lock-order cycle, a hang, locks left held."""

from __future__ import annotations

from collections.abc import Iterable

from grader.harness.checks import fail
from grader.locks.recorder import LockOrderRecorder
from grader.locks.recording import RecordingLock


def check_lock_order(recorder: LockOrderRecorder, what: str = "the code") -> None:
    """Fail if a deadlock happened or the locks were taken in conflicting orders."""
    __tracebackhide__ = True
    if recorder.deadlocks:
        fail(
            f"deadlock in {what}: {recorder.deadlocks[0]}. "
            "Take locks in one global order (for example by id) whatever the call's arguments"
        )
    report = recorder.order_report()
    if report:
        fail(
            f"{what} can deadlock: {report}. "
            "Take locks in one global order (for example by id) whatever the call's arguments"
        )


def check_hang(recorder: LockOrderRecorder, hung: bool, what: str = "the code") -> None:
    """After a watchdog timeout: name the wait-for cycle, free the blocked threads, fail."""
    __tracebackhide__ = True
    if not hung:
        return
    cycle = recorder.wait_cycle()
    waits = recorder.describe_waits()
    recorder.abort()
    if cycle is not None:
        fail(
            f"deadlock in {what}: {waits}. "
            "Take locks in one global order (for example by id) whatever the call's arguments"
        )
    fail(f"{what} did not finish in time (a hang?): {waits}")


def all_released(locks: Iterable[RecordingLock]) -> list[RecordingLock]:
    """The locks of ``locks`` that are still held."""
    return [lk for lk in locks if lk.locked()]
