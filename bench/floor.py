"""Benchmark: each exercise's I/O floor, and how far grading is above it. Prints figures.

    python bench/floor.py [--only SLUG[,SLUG]] [--seed N] [--per-test]

The *floor* of an exercise is the time its hidden tests must spend waiting for
simulated I/O, however fast the grader and the solution are:

* The hidden tests of the reference solutions are run in-process (no sandbox,
  no records: a benchmark) with a bench-only pytest plugin that wraps
  :class:`grader.harness.service._Recorder` (so both ``SimulatedService`` and
  ``AsyncSimulatedService``, and their subclasses) to note every call: its
  known delay (the value ``delay_for`` gave that very call, never asked
  twice, so random delays are not disturbed) and when it started and ended.
  Grading behaviour is unchanged: the wrappers call the originals.
  Exercises whose hidden tests simulate I/O in probes of their own
  (``PROBE_SLEEPS``: the pipeline's source, stages and sink) have their hidden
  module's ``_sleep`` wrapped the same way: each sleep is a call of known delay.
  In ``PROBE_TASKS`` (first_error_cancels), each task is a call from the
  release of its start gate (a rendezvous) to its end, of delay ``work +
  cleanup`` (it works by waiting on the cancellation event, then winds down).
* A call *forces* ``min(delay, end - start)`` seconds: its delay, or less when
  the test cancelled it sooner (a timeout). Waiting at a rendezvous is not
  counted.
* A test's calls are split into *busy periods*: maximal stretches during which
  at least one call was in flight. In a period whose calls reached at most
  ``L`` at once (the lanes the reference's calls used), no schedule on ``L`` lanes
  can finish sooner than ``max(sum of forced / L, longest forced)``, the
  classic makespan lower bound (the exact ideal, e.g. ``sliding_window_ideal``
  in call order, is a list schedule: it may exceed the optimum, so it is not a
  bound). Periods follow one another in the test (separate calls of the
  function under test, timing rounds), so their bounds add up.
* The floor of a test is the sum over its periods; an exercise's floor is the
  sum over its hidden tests.

So the floor is a lower bound on the simulated waiting of any solution that
has no more calls in flight at once than the reference had, provided the gaps
between periods come from the test (it calls the function under test again
only once the last call returned), as in the hidden tests.

Then the reference solutions are graded for real, one exercise at a time
(``grade(..., only=[slug], jobs=1)``: sandbox, child process, records), and
the table shows the grading wall time and its ratio to the floor. The
difference is the grader's overhead (process start, collection, sandbox),
CPU-bound checks, watchdog slack and the machine's load.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader import catalogue, layout  # noqa: E402
from grader.grading.command import PLUGINS  # noqa: E402

#: Exercises whose hidden tests simulate I/O by sleeping in their own probes (module ``_sleep``).
PROBE_SLEEPS = {"pipeline"}
#: Exercises whose hidden tests' tasks work by waiting, after a gate (module class ``Tasks``).
PROBE_TASKS = {"first_error_cancels"}

#: Why an exercise has no floor, when its hidden tests make no simulated service call.
NO_SERVICE = {
    "classify_workload": "CPU-bound and blocking probes of its own, no simulated service",
    "cpu_parallel": "CPU-bound: processes doing arithmetic",
    "right_size": "pure logic and lock-order checks (hypothesis), no I/O",
    "amdahl": "pure arithmetic (hypothesis), no I/O",
    "concepts": "a quiz: answers compared, no I/O",
}


@dataclass
class Span:
    """When a probe's own sleep started and ended (a service's CallRecord has the same two)."""

    start: float
    end: float | None = None


@dataclass
class Call:
    """One simulated call as the bench plugin saw it."""

    record: Any  # the service's CallRecord, or a Span
    delay: float | None = None  # what delay_for gave this call, or the probe's sleep


@dataclass
class TestFloor:
    nodeid: str
    outcome: str = "?"
    calls: int = 0
    floor: float = 0.0


def busy_periods(spans: list[tuple[float, float, float]]) -> list[list[tuple[float, float, float]]]:
    """Group ``(start, end, forced)`` spans into maximal stretches with a call in flight."""
    periods: list[list[tuple[float, float, float]]] = []
    last_end = float("-inf")
    for span in sorted(spans):
        if not periods or span[0] > last_end:
            periods.append([])
        periods[-1].append(span)
        last_end = max(last_end, span[1])
    return periods


def peak_lanes(spans: list[tuple[float, float, float]]) -> int:
    """The most spans in flight at once (an end before a start at the same instant)."""
    events = sorted([(s, 1) for s, _, _ in spans] + [(e, -1) for _, e, _ in spans])
    now = peak = 0
    for _, step in events:
        now += step
        peak = max(peak, now)
    return max(peak, 1)


def floor_of(spans: list[tuple[float, float, float]]) -> float:
    """The sum over busy periods of ``max(total forced / lanes, longest forced)``."""
    total = 0.0
    for period in busy_periods(spans):
        forced = [f for _, _, f in period]
        total += max(sum(forced) / peak_lanes(period), max(forced))
    return total


class FloorRecorder:
    """The bench-only pytest plugin: records each test's simulated calls."""

    def __init__(self) -> None:
        self.tests: list[TestFloor] = []
        self._calls: list[Call] = []
        self._pending = threading.local()
        self._install()

    def _install(self) -> None:
        from grader.harness.service import _Recorder

        begin, delay_for = _Recorder._begin, _Recorder.delay_for
        calls, pending = self._calls, self._pending

        def recorded_begin(service: _Recorder, arg: Any) -> Any:
            record = begin(service, arg)
            call = Call(record)
            calls.append(call)
            pending.call = (service, call)  # delay_for comes next, in this thread or task
            return record

        def recorded_delay_for(service: _Recorder, arg: Any) -> float:
            value = delay_for(service, arg)
            waiting = getattr(pending, "call", None)
            if waiting is not None and waiting[0] is service:
                waiting[1].delay = value
                pending.call = None
            return value

        _Recorder._begin = recorded_begin  # type: ignore[method-assign]
        _Recorder.delay_for = recorded_delay_for  # type: ignore[method-assign]

    def pytest_collection_finish(self, session: Any) -> None:
        """Record the sleeps of the probes that simulate I/O without a service."""
        for module in {item.module for item in session.items if hasattr(item, "module")}:
            slug = Path(module.__file__).stem.split("_", 2)[-1]
            if slug in PROBE_SLEEPS:
                module._sleep = self._recorded_sleep(module._sleep)
            if slug in PROBE_TASKS:
                self._record_tasks(module.Tasks)

    def _record_tasks(self, cls: Any) -> None:
        """Each task is a call from its gate's release to its end, of at most work + cleanup."""
        gate, run = cls._gate, cls._run
        calls, released = self._calls, threading.local()

        def recorded_gate(tasks: Any) -> None:
            try:
                gate(tasks)
            finally:
                released.at = time.perf_counter()

        def recorded_run(tasks: Any, i: int, cancel: Any) -> Any:
            released.at = None
            try:
                return run(tasks, i, cancel)
            finally:
                if released.at is not None:
                    span = Span(released.at, time.perf_counter())
                    calls.append(Call(span, tasks.plans[i].work + tasks.cleanup))

        cls._gate, cls._run = recorded_gate, recorded_run

    def _recorded_sleep(self, sleep: Any) -> Any:
        calls = self._calls

        def recorded(seconds: float) -> None:
            span = Span(time.perf_counter())
            calls.append(Call(span, seconds))
            try:
                sleep(seconds)
            finally:
                span.end = time.perf_counter()

        return recorded

    def pytest_runtest_setup(self, item: Any) -> None:
        self._calls.clear()
        self.tests.append(TestFloor(item.nodeid))

    def pytest_runtest_logreport(self, report: Any) -> None:
        test = self.tests[-1] if self.tests else None
        if test is None or report.nodeid != test.nodeid:
            return
        if report.when == "call" or report.outcome != "passed":
            test.outcome = report.outcome if test.outcome in ("?", "passed") else test.outcome
        if report.when == "teardown":
            now = time.perf_counter()
            spans = []
            for call in self._calls:
                if call.delay is None:  # stopped before it slept
                    continue
                end = call.record.end if call.record.end is not None else now
                spans.append((call.record.start, end, min(call.delay, end - call.record.start)))
            test.calls = len(self._calls)
            test.floor = floor_of(spans)
            self._calls.clear()


def collect(slug: str, seed: int, out: Path) -> None:
    """Run ``slug``'s hidden tests on the references in this process; floors go to ``out``."""
    import pytest

    exercise = catalogue.load().get(slug)
    recorder = FloorRecorder()
    args = [
        str(layout.HIDDEN / exercise.test_file), *PLUGINS,
        "--noconftest", "-q", "--color=no", "--tb=line",
        "--rootdir", str(layout.HIDDEN), "-c", str(layout.HIDDEN / "pytest.ini"),
        f"--timeout={exercise.test_timeout:g}", "--timeout-method=thread",
        "--impl", str(layout.SOLUTIONS), "--race-seed", str(seed),
    ]  # fmt: skip
    code = pytest.main(args, plugins=[recorder])
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        raise SystemExit(f"pytest on {slug}'s hidden tests stopped: {code!r}")
    out.write_text(json.dumps([t.__dict__ for t in recorder.tests]))


@dataclass
class Row:
    slug: str
    tests: list[TestFloor] = field(default_factory=list)
    wall: float = 0.0
    score: str = ""

    @property
    def calls(self) -> int:
        return sum(t.calls for t in self.tests)

    @property
    def floor(self) -> float | None:
        return sum(t.floor for t in self.tests) if self.calls else None


def measure(slug: str, seed: int) -> Row:
    from grader.grading.scoring import grade

    row = Row(slug)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "floors.json"
        cmd = [sys.executable, __file__, "--collect", slug, "--out", str(out), "--seed", str(seed)]
        env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}  # as the grader's child
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, cwd=tmp, env=env)
        row.tests = [TestFloor(**t) for t in json.loads(out.read_text())]
    report = grade(layout.SOLUTIONS, catalogue.load(), only=[slug], seed=seed, jobs=1)
    score = report.exercises[0]
    row.wall = score.elapsed
    row.score = f"{score.earned:g}/{score.possible:g}"
    return row


def show(rows: list[Row]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="I/O floor of the hidden tests (reference solutions)")
    table.add_column("exercise", no_wrap=True, min_width=max(len(r.slug) for r in rows) + 4)
    for name in ("tests", "calls", "floor s", "grading s", "grading/floor", "score"):
        table.add_column(name, justify="right")
    notes: list[str] = []
    warnings: list[str] = []
    for row in rows:
        floor = row.floor
        mark = ""
        if floor is None:
            notes.append(f"{row.slug}: {NO_SERVICE.get(row.slug, 'no simulated service call')}")
            mark = f" [{len(notes)}]"
        bad = [t.nodeid for t in row.tests if t.outcome != "passed"]
        if bad:
            warnings.append(f"{row.slug}: not passed in-process: {', '.join(bad)}")
        table.add_row(
            row.slug + mark, str(len(row.tests)), str(row.calls),
            "-" if floor is None else f"{floor:.2f}", f"{row.wall:.1f}",
            "-" if not floor else f"{row.wall / floor:.1f}x", row.score,
        )  # fmt: skip
    measured = [r for r in rows if r.floor]
    floor_sum = sum(r.floor or 0.0 for r in measured)
    wall_io = sum(r.wall for r in measured)
    table.add_section()
    table.add_row(
        "total", str(sum(len(r.tests) for r in rows)), str(sum(r.calls for r in rows)),
        f"{floor_sum:.2f}", f"{sum(r.wall for r in rows):.1f}",
        f"{wall_io / floor_sum:.1f}x" if floor_sum else "-", "",
    )  # fmt: skip
    console = Console(width=max(Console().width, 100))
    console.print(table)
    if floor_sum:
        console.print(f"total grading/floor counts the exercises with a floor only: "
                      f"{wall_io:.1f} s / {floor_sum:.2f} s")  # fmt: skip
    for i, note in enumerate(notes, 1):
        print(f"[{i}] no floor for {note}")
    for warning in warnings:
        print(f"warning: {warning}")


def show_tests(rows: list[Row]) -> None:
    """Each test's floor, for the exercises that have one."""
    for row in rows:
        for t in row.tests:
            name = t.nodeid.split("::")[-1]
            if t.calls:
                print(f"{t.floor:8.3f} s {t.calls:5d} calls  {row.slug}  {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="comma-separated slugs (default: all)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--per-test", action="store_true", help="also print each test's floor")
    parser.add_argument("--collect", help=argparse.SUPPRESS)  # the in-process child
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.collect:
        collect(args.collect, args.seed, args.out)
        return
    cat = catalogue.load()
    slugs = [s for s in args.only.split(",") if s] or [e.slug for e in cat]
    print(f"Python {sys.version.split()[0]}, {len(slugs)} exercises, seed {args.seed}")
    rows = [measure(slug, args.seed) for slug in slugs]
    if args.per_test:
        show_tests(rows)
    show(rows)


if __name__ == "__main__":
    main()
