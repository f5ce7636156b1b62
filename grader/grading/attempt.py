"""Read one hidden-test child's signed records into test results, trusting only what is in order.

The parent keeps only records with a valid MAC (:mod:`grader.records`), and
even those may have been forged from inside the test process, which holds the
key: the plan must be well formed, each result must follow the ``start`` of
the same test, and a result counts only once the next ``start`` or the
session's ``end`` confirms it. Anything else stops the reading.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from grader.records import verified_records
from grader.results import TestInfo, TestResult

OUTCOMES = ("passed", "failed", "error", "ungradable")


@dataclass
class Attempt:
    """What one child's authentic records say."""

    started: list[str] = field(default_factory=list)
    tampered: bool = False
    records: int = 0  # authentic records: none means no student code ran in this child
    meta: dict = field(default_factory=dict)  # the child's meta record (seed, Python, CPUs)


def plan_of(tests: object) -> dict[str, TestInfo] | None:
    """The plan record's tests, or None if it is malformed (it is authentic: a forgery from
    inside the test process, or a bug)."""
    if not isinstance(tests, list):
        return None
    plan = {}
    for t in tests:
        try:
            info = TestInfo(**t)
        except TypeError:  # not a mapping, or missing/unknown fields
            return None
        texts = (info.nodeid, info.title, info.exercise or "", info.category or "")
        if not all(isinstance(x, str) for x in texts) or not _is_number(info.weight):
            return None
        plan[info.nodeid] = info
    return plan


def _is_number(value: object) -> bool:
    return (
        isinstance(value, int | float) and not isinstance(value, bool) and (-1e300 < value < 1e300)
    )


FORGED = "no result (process exited/crashed; its result stream was forged)"


def read_attempt(
    path: Path,
    key: bytes,
    plan: dict[str, TestInfo],
    expected: set[str] | None,
    finished: dict[str, TestResult],
) -> Attempt:
    """Apply one child's verified records: the plan first, then start/result pairs in order.

    A result counts only once it is confirmed: by the ``start`` of the next
    test or the session's ``end``. Anything out of order (a second result, a
    result for another test, a start out of the plan) stops the reading; the
    test then running, and an unconfirmed result, are failed.
    """
    records, _rejected = verified_records(path, key)
    seen = Attempt(records=len(records))
    current: str | None = None
    provisional: TestResult | None = None
    allowed = expected if expected is not None else None
    for rec in records:
        event = rec.get("event")
        if event == "meta" and not seen.started:
            seen.meta = seen.meta or {k: v for k, v in rec.items() if k not in ("event", "seq")}
        elif event == "plan" and not seen.started:
            if not plan and expected is None:
                tests = plan_of(rec.get("tests"))
                if tests is None:
                    seen.tampered = True
                    break
                plan.update(tests)
        elif event == "start" and current is None:
            nodeid = rec.get("nodeid")
            if not isinstance(nodeid, str):
                seen.tampered = True
                break
            if nodeid not in (allowed if allowed is not None else plan) or nodeid in finished:
                seen.tampered = True
                break
            if provisional is not None:
                finished[provisional.info.nodeid] = provisional
                provisional = None
            if nodeid in seen.started:
                seen.tampered = True
                break
            current = nodeid
            seen.started.append(nodeid)
        elif event == "result" and current is not None and rec.get("nodeid") == current:
            outcome, diagnosis = rec.get("outcome"), rec.get("diagnosis")
            duration = rec.get("duration")
            if outcome not in OUTCOMES or not isinstance(diagnosis, str):
                seen.tampered = True
                break
            if not _is_number(duration):
                duration = 0.0
            ratio = rec.get("ratio")
            ratio = float(ratio) if _is_number(ratio) else None
            provisional = TestResult(plan[current], outcome, diagnosis, float(duration), ratio)
            current = None
        elif event == "end" and current is None:
            if provisional is not None:
                finished[provisional.info.nodeid] = provisional
                provisional = None
        else:  # out of order: nothing after this point is trusted
            seen.tampered = True
            break
    if provisional is not None:
        nodeid = provisional.info.nodeid
        if seen.tampered:
            finished[nodeid] = TestResult(plan[nodeid], "failed", FORGED)
        # else: unconfirmed (the process died right after it); the caller fails it as lost
    return seen
