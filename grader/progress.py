"""The student's progress table at the end of plain ``tox`` (``pytest --progress``).

Like rustlings: how many exercises are solved, the next one to work on, its
first failing test's message in plain words, where in the student's own file
it went wrong, and how to get a hint. It also reminds students that the grade
adds hidden tests, so "all visible tests pass" is never mistaken for a full
grade.

Failures are rewritten for students (unless ``--tb`` is given explicitly):
the plain-words message, the test's file and line, and the frames of the
student's own code only. Never a line of a grader file or of a test that is
not under the visible ``tests/`` folder.

Messages and source lines come from the student's code: they are kept as
printable text (:func:`grader.reports.sanitize.terminal_text`), printed as
``rich.text.Text``, and no output line may be a GitHub Actions workflow command
(:func:`~grader.reports.sanitize.workflow_safe`).
"""

from __future__ import annotations

import io
import traceback
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pytest
from rich.console import Console
from rich.table import Table
from rich.text import Text

from grader import catalogue as catalogue_mod
from grader.catalogue import Exercise
from grader.diagnosis import diagnose
from grader.reports.sanitize import terminal_text, workflow_safe

REMINDER = (
    "Remember: the grade adds hidden tests (more inputs, timing under load, races "
    "amplified), so passing the visible tests is necessary, not sufficient. "
    "Run `tox -e race` to hunt races locally."
)
_CHAIN_LIMIT = 5
_FRAME_LIMIT = 6


@dataclass
class TestOutcome:
    """One visible test, as a student sees it (and as CI reports it)."""

    nodeid: str
    name: str
    exercise: str
    outcome: str  # passed | failed
    message: str = ""
    file: str | None = None  # where to look: the student's file
    line: int | None = None
    frames: list[str] = field(default_factory=list)  # the student's own frames, innermost last
    test_location: str | None = None  # tests/test_NN_slug.py:LINE (visible tests only)
    duration: float = 0.0


@dataclass
class _Tally:
    passed: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (test name, message)
    tests: list[TestOutcome] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.passed + len(self.failed)

    def first_failure(self) -> TestOutcome | None:
        return next((t for t in self.tests if t.outcome == "failed"), None)


def _display(path: str | Path) -> str:
    """``path`` relative to the current folder when it is inside it."""
    p = Path(path)
    try:
        return p.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(p)


def plain_message(exc: BaseException, limit: int = 2000) -> str:
    """The failure's message in plain words, without pytest's assertion introspection.

    The introspection (``assert x == y``) quotes the test's source; it is left
    out, and a message-less ``assert`` becomes the neutral line of :func:`diagnose`.
    """
    if isinstance(exc, AssertionError):
        lines = []
        for line in str(exc).splitlines():
            if line.startswith("assert "):
                break
            lines.append(line)
        text = "\n".join(lines).strip()
        if not text:
            return diagnose(exc)
    elif type(exc).__name__ == "Failed":
        text = str(exc).strip() or "failed"
    else:
        text = f"{type(exc).__name__}: {exc}".strip().rstrip(":")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def student_frames(exc: BaseException, root: Path) -> list[traceback.FrameSummary]:
    """Frames of ``exc`` (or of the exceptions it was raised from) in files under ``root``."""
    root_s = str(root.resolve())
    seen: set[int] = set()
    current: BaseException | None = exc
    for _ in range(_CHAIN_LIMIT):
        if current is None or id(current) in seen:
            break
        seen.add(id(current))
        frames = [
            f
            for f in traceback.extract_tb(current.__traceback__)
            if str(Path(f.filename).resolve()).startswith(root_s)
        ]
        if frames:
            return frames[-_FRAME_LIMIT:]
        current = current.__cause__ or current.__context__
    return []


def todo_line(path: Path) -> int | None:
    """The first line that still says TODO, where a student has work to do."""
    try:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if "TODO" in line:
                return number
    except OSError:
        return None
    return None


def _test_location(exc: BaseException, tests_dir: Path) -> str | None:
    """``tests/test_x.py:LINE`` of the innermost frame in a visible test file, if any."""
    tests_s = str(tests_dir.resolve())
    found = None
    for f in traceback.extract_tb(exc.__traceback__):
        if str(Path(f.filename).resolve()).startswith(tests_s):
            found = f
    return f"{_display(found.filename)}:{found.lineno}" if found else None


def describe_failure(
    item_name: str, ex: Exercise, exc: BaseException | None, impl: Path, tests_dir: Path
) -> TestOutcome:
    """A failed test as the student sees it: message, place in their code, their frames."""
    limit = catalogue_mod.load().output_limit
    name = terminal_text(item_name)
    outcome = TestOutcome(nodeid="", name=name, exercise=ex.slug, outcome="failed")
    module = impl / ex.module_file
    if exc is None:
        outcome.message = "failed"
    else:
        outcome.message = terminal_text(plain_message(exc, limit))
        frames = student_frames(exc, impl)
        outcome.frames = [
            terminal_text(f"{_display(f.filename)}:{f.lineno} in {f.name}")
            + (f"\n    {terminal_text(f.line)}" if f.line else "")
            for f in frames
        ]
        if frames:
            outcome.file = terminal_text(_display(frames[-1].filename))
            outcome.line = frames[-1].lineno
        outcome.test_location = _test_location(exc, tests_dir)
    if outcome.file is None:
        outcome.file, outcome.line = _display(module), todo_line(module) or 1
    return outcome


def render_failure(outcome: TestOutcome) -> str:
    """The text pytest shows for a failed test, in student mode."""
    where = f" ({outcome.test_location})" if outcome.test_location else ""
    parts = [f"✗ {outcome.name}{where}", _indent(outcome.message, "  ")]
    if outcome.frames:
        parts.append("  In your code (innermost last):")
        parts.extend(_indent(f, "    ") for f in outcome.frames)
    else:
        parts.append(f"  Look at {outcome.file}:{outcome.line}")
    parts.append("  (Run with --tb=long for pytest's full traceback.)")
    return workflow_safe("\n".join(parts))


def _indent(text: str, prefix: str) -> str:
    return "\n".join(prefix + line for line in text.splitlines())


class ProgressReporter:
    """A pytest plugin object, registered by ``--progress``."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.tallies: dict[str, _Tally] = defaultdict(_Tally)
        self.impl = Path(config.getoption("impl")).resolve()
        self.rewrite = getattr(config.option, "tbstyle", "auto") == "auto"

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
        report = yield
        ex = catalogue_mod.load().by_test_file(str(item.path))
        if ex is None or not (report.when == "call" or report.failed):
            return report
        tally = self.tallies[ex.slug]
        if report.passed:
            tally.passed += 1
            tally.tests.append(
                TestOutcome(
                    nodeid=item.nodeid,
                    name=item.name,
                    exercise=ex.slug,
                    outcome="passed",
                    duration=report.duration,
                )
            )
        elif report.failed and all(name != item.name for name, _ in tally.failed):
            exc = call.excinfo.value if call.excinfo else None
            outcome = describe_failure(item.name, ex, exc, self.impl, Path(item.path).parent)
            outcome.nodeid, outcome.duration = item.nodeid, report.duration
            tally.failed.append((outcome.name, (outcome.message.splitlines() or [""])[0]))
            tally.tests.append(outcome)
            if self.rewrite:
                report.longrepr = render_failure(outcome)
        return report

    def outcomes(self) -> list[TestOutcome]:
        return [t for tally in self.tallies.values() for t in tally.tests]

    def as_json(self) -> dict:
        """What ``--student-report`` writes (read by ``grader check`` and CI reports)."""
        return {
            "impl": str(self.impl),
            "tests": [asdict(t) for t in self.outcomes()],
        }

    def pytest_terminal_summary(self, terminalreporter) -> None:
        out = io.StringIO()
        console = Console(
            file=out, force_terminal=terminalreporter.hasmarkup, width=100, highlight=False
        )
        render_progress(list(catalogue_mod.load()), self.tallies, console)
        terminalreporter.write(workflow_safe(out.getvalue()))


def render_progress(
    exercises: list[Exercise], tallies: dict[str, _Tally], console: Console
) -> None:
    ran = [e for e in exercises if e.slug in tallies]
    solved = [e for e in ran if not tallies[e.slug].failed and tallies[e.slug].passed]
    passed = sum(t.passed for t in tallies.values())
    total = sum(t.total for t in tallies.values())
    partial = 0 < len(ran) < len(exercises)  # `tox -e check -- SLUG`: only what ran
    shown = ran if partial else exercises
    of = f"{len(ran)} run here" if partial else f"{len(exercises)} exercises"
    table = Table(
        title=f"Progress: {len(solved)} of {of} solved · visible tests {passed}/{total}",
        title_justify="left",
    )
    for col in ("#", "exercise", "status", "visible tests"):
        table.add_column(col)
    for ex in shown:
        tally = tallies.get(ex.slug)
        if tally is None:
            status = Text("not run", style="dim")
            count = "-"
        elif ex in solved:
            status, count = Text("✓ solved", style="green"), f"{tally.passed}/{tally.total}"
        else:
            status = Text(f"✗ {len(tally.failed)} failing", style="red")
            count = f"{tally.passed}/{tally.total}"
        table.add_row(f"{ex.order:02d}", ex.slug, status, count)
    console.print(table)
    if partial:
        console.print(Text("Plain `tox` runs every exercise; `tox -e list` shows them all.", "dim"))
    pending = [e for e in ran if e not in solved]
    if pending:
        nxt = pending[0]
        name, message = tallies[nxt.slug].failed[0]
        first = tallies[nxt.slug].first_failure()
        console.print(Text(f"Next: {nxt.stem}: {nxt.title}", style="bold"))
        console.print(Text(f"  ✗ {name}: {message}", style="red"))
        where = f"{first.file}:{first.line}" if first and first.file else nxt.module_file
        console.print(Text(f"  Look at {where}"))
        console.print(
            Text(f"  Edit exercises/{nxt.module_file}; for a hint run: tox -e hint -- {nxt.slug}")
        )
    elif ran:
        console.print(Text("Every visible test passes. Well done!", style="green bold"))
    console.print(Text(REMINDER, style="dim"))
