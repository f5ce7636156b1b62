"""The student's summary at the end of plain ``tox`` (``pytest --progress``).

Like rustlings: one exercise in focus (the first one not solved), its failures in
plain words (each distinct failure once), a one-line progress summary, and last
the advice: the next exercise, its first failure, where in the student's own file
it went wrong (a syntax error's own line), and the commands to re-run it and to
get a hint. It also reminds students that the grade adds hidden tests, so "all
visible tests pass" is never mistaken for a full grade.

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
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pytest
from rich.console import Console
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


def syntax_error_line(path: Path) -> int | None:
    """The line of the syntax error in ``path``, if it does not compile.

    A module that does not compile fails every test with no frame of the student's
    in the traceback; the place to look is the error, not the first TODO.
    """
    try:
        compile(path.read_bytes(), str(path), "exec", dont_inherit=True)
    except SyntaxError as exc:
        return exc.lineno
    except (OSError, ValueError):
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
        outcome.file, outcome.line = _display(module), syntax_error_line(module)
    if outcome.line is None:
        outcome.line = todo_line(module) or 1
    return outcome


def render_failure(outcome: TestOutcome, long_command: str | None = None) -> str:
    """The text of one failed test, in student mode (``long_command``: how to see more)."""
    where = f" ({outcome.test_location})" if outcome.test_location else ""
    parts = [f"✗ {outcome.name}{where}", _indent(outcome.message, "  ")]
    if outcome.frames:
        parts.append("  In your code (innermost last):")
        parts.extend(_indent(f, "    ") for f in outcome.frames)
    else:
        parts.append(f"  Look at {outcome.file}:{outcome.line}")
    if long_command:
        parts.append(f"  (For pytest's full traceback: {long_command})")
    return workflow_safe("\n".join(parts))


def _indent(text: str, prefix: str) -> str:
    return "\n".join(prefix + line for line in text.splitlines())


# The commands messages suggest: the student pack's tox envs (``grader check`` loads the
# student plugin), or plain pytest with ``--progress`` elsewhere.
PACK_COMMANDS = {
    "check": "tox -e check -- {slug}",
    "long": "tox -e check -- {slug} --tb=long",
    "hint": "tox -e hint -- {slug}",
}
PYTEST_COMMANDS = {
    "check": "pytest {test} --progress",
    "long": "pytest {test} --progress --tb=long",
    "hint": "grader hint {slug}",
}


def pytest_commands(ex: Exercise) -> dict[str, str]:
    """:data:`PYTEST_COMMANDS` for one exercise."""
    test = f"tests/{ex.test_file}"
    return {k: v.format(slug=ex.slug, test=test) for k, v in PYTEST_COMMANDS.items()}


SHOWN_GROUPS = 5  # distinct failures shown for the exercise in focus; the rest by name


def group_failures(tests: list[TestOutcome]) -> list[list[TestOutcome]]:
    """Failed tests grouped by message, first seen first: a module that does not import
    fails every test the same way, and is shown once."""
    groups: dict[str, list[TestOutcome]] = {}
    for t in tests:
        if t.outcome == "failed":
            groups.setdefault(t.message, []).append(t)
    return list(groups.values())


class ProgressReporter:
    """A pytest plugin object, registered by ``--progress``.

    In student mode (no explicit ``--tb``) pytest's own failure list is turned off
    (``--tb=no``, no short summary): the terminal summary shows the failures of one
    exercise, the first unsolved (grouped, in plain words), then a one-line progress
    summary, and the advice ("Next: …") is printed last, after pytest's own counts.
    """

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.tallies: dict[str, _Tally] = defaultdict(_Tally)
        self.impl = Path(config.getoption("impl")).resolve()
        self.rewrite = getattr(config.option, "tbstyle", "auto") == "auto"
        if self.rewrite:
            config.option.tbstyle = "no"  # shown by the terminal summary instead
        self.errors: list[tuple[str, str]] = []  # (where, text): failures outside the exercises
        self.advice: Text | None = None

    def commands(self, ex: Exercise) -> dict[str, str]:
        if self.config.getoption("student_report", default=None) is None:
            return pytest_commands(ex)
        return {k: v.format(slug=ex.slug) for k, v in PACK_COMMANDS.items()}

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.errors.append((report.nodeid or "collecting the tests", report.longreprtext))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
        report = yield
        ex = catalogue_mod.load().by_test_file(str(item.path))
        if ex is None:
            if report.failed:
                self.errors.append((f"{item.nodeid} ({report.when})", report.longreprtext))
            return report
        if not (report.when == "call" or report.failed):
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
            if self.rewrite:  # pytest's --junitxml and -rf show this text
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
        exercises = list(catalogue_mod.load())
        if self.rewrite:
            terminalreporter.reportchars = ""  # the failures are listed here, once
            render_errors(self.errors, console)
        race = bool(self.config.getoption("race", default=False))
        self.advice = render_progress(
            exercises,
            self.tallies,
            console,
            self.commands,
            show_failures=self.rewrite,
            race=race,
            not_started=len(not_started(exercises, self.impl)),
        )
        terminalreporter.write(workflow_safe(out.getvalue()))

    @pytest.hookimpl(trylast=True)
    def pytest_unconfigure(self, config: pytest.Config) -> None:
        """The advice, last: after pytest's counts ("3 failed, 5 passed in 2s")."""
        terminalreporter = config.pluginmanager.get_plugin("terminalreporter")
        if self.advice is None or terminalreporter is None:
            return
        out = io.StringIO()
        Console(
            file=out, force_terminal=terminalreporter.hasmarkup, width=100, highlight=False
        ).print(self.advice)
        terminalreporter.write(workflow_safe(out.getvalue()))


def render_errors(errors: list[tuple[str, str]], console: Console, limit: int = 40) -> None:
    """Failures outside the exercises' tests (a test file that does not import, say)."""
    for where, text in errors:
        lines = terminal_text(text).splitlines()
        if len(lines) > limit:
            lines = [*lines[: limit // 2], "…", *lines[-limit // 2 :]]
        console.print(Text(f"✗ error in {terminal_text(where)}", style="red bold"))
        console.print(Text(_indent("\n".join(lines), "  ")))


def not_started(exercises: list[Exercise], impl: Path) -> list[Exercise]:
    """The exercises whose file is still the original stub (the student pack keeps
    copies in ``grader/stubs/``; elsewhere there are none, and this is empty)."""
    from grader.commands.student import STUBS_DIR, file_hash

    found = []
    for ex in exercises:
        stub = file_hash(STUBS_DIR / ex.module_file)
        if stub is not None and file_hash(impl / ex.module_file) == stub:
            found.append(ex)
    return found


def _bar(done: int, total: int, width: int = 20) -> str:
    filled = round(width * done / total) if total else 0
    return "[" + "#" * filled + "-" * (width - filled) + "]"


def render_progress(
    exercises: list[Exercise],
    tallies: dict[str, _Tally],
    console: Console,
    commands: Callable[[Exercise], dict[str, str]] | None = None,
    show_failures: bool = True,
    race: bool = False,
    not_started: int = 0,
) -> Text:
    """Print the exercise in focus (the first unsolved one: its failures, grouped) and a
    short summary; return the advice, for the caller to print last."""
    commands = commands or pytest_commands
    ran = [e for e in exercises if e.slug in tallies]
    solved = [e for e in ran if not tallies[e.slug].failed and tallies[e.slug].passed]
    pending = [e for e in ran if e not in solved]
    passed = sum(t.passed for t in tallies.values())
    total = sum(t.total for t in tallies.values())
    partial = 0 < len(ran) < len(exercises)  # `tox -e check -- SLUG`: only what ran
    focus = pending[0] if pending else None
    if focus is not None and show_failures:
        cmds = commands(focus)
        tally = tallies[focus.slug]
        console.print(
            Text(f"── {focus.stem}: {focus.title} ", style="bold").append("─" * 20, style="dim")
        )
        groups = group_failures(tally.tests)
        for group in groups[:SHOWN_GROUPS]:
            console.print(Text(render_failure(group[0]), style="red"))
            if len(group) > 1:
                others = ", ".join(t.name for t in group[1:])
                console.print(Text(f"  (the same failure in {len(group) - 1} more: {others})"))
        rest = [g[0].name for g in groups[SHOWN_GROUPS:]]
        if rest:
            console.print(Text(f"✗ also failing: {', '.join(rest)}", style="red"))
        console.print(Text(f"(For pytest's full traceback: {cmds['long']})", style="dim"))
    mode = " · races amplified" if race else ""
    waiting = f" · {not_started} not started" if not_started else ""
    if partial:
        names = ", ".join(f"{e.slug} {tallies[e.slug].passed}/{tallies[e.slug].total}" for e in ran)
        console.print(Text(f"Visible tests passed: {names}{mode}", style="bold"))
    else:
        console.print(
            Text(
                f"Progress: {_bar(len(solved), len(exercises))} {len(solved)} of "
                f"{len(exercises)} exercises solved{waiting} · visible tests {passed}/{total}"
                f"{mode}",
                style="bold",
            )
        )
    if ran:
        reminder = REMINDER if not race else REMINDER.split(" Run `tox -e race`")[0]
        console.print(Text(reminder, style="dim"))
    return advice(focus, tallies, commands, ran, exercises, partial)


def advice(
    focus: Exercise | None,
    tallies: dict[str, _Tally],
    commands: Callable[[Exercise], dict[str, str]],
    ran: list[Exercise],
    exercises: list[Exercise],
    partial: bool,
) -> Text:
    """What to do next: the exercise in focus, its first failure, where, and how to go on."""
    text = Text()
    if focus is None:
        if not ran:
            return text
        if partial:
            names = ", ".join(e.slug for e in ran)
            more = "" if len(ran) == len(exercises) else " Plain `tox` shows the next exercise."
            text.append(f"✓ {names}: every visible test passes.{more}", style="green bold")
        else:
            text.append("Every visible test passes. Well done!", style="green bold")
        return text
    cmds = commands(focus)
    first = tallies[focus.slug].first_failure()
    name, message = tallies[focus.slug].failed[0]
    where = f"{first.file}:{first.line}" if first and first.file else focus.module_file
    text.append(f"Next: {focus.stem}: {focus.title}\n", style="bold")
    text.append(f"  ✗ {name}: {message}\n", style="red")
    text.append(f"  Look at {where}\n")
    text.append(f"  Edit exercises/{focus.module_file}, then run: {cmds['check']}\n")
    text.append(f"  Stuck? A hint at a time: {cmds['hint']}")
    return text
