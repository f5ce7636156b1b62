"""The student's progress table at the end of plain ``tox`` (``pytest --progress``).

Like rustlings: how many exercises are solved, the next one to work on, its
first failing test's message in plain words, and how to get a hint. It also
reminds students that the grade adds hidden tests, so "all visible tests pass"
is never mistaken for a full grade.
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from rich.console import Console
from rich.table import Table
from rich.text import Text

from grader import catalogue as catalogue_mod
from grader.catalogue import Exercise
from grader.diagnosis import diagnose


@dataclass
class _Tally:
    passed: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (test name, message)

    @property
    def total(self) -> int:
        return self.passed + len(self.failed)


class ProgressReporter:
    """A pytest plugin object, registered by ``--progress``."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.tallies: dict[str, _Tally] = defaultdict(_Tally)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
        report = yield
        ex = catalogue_mod.load().by_test_file(str(item.path))
        if ex is None or not (report.when == "call" or report.failed):
            return report
        tally = self.tallies[ex.slug]
        if report.passed:
            tally.passed += 1
        elif report.failed and all(name != item.name for name, _ in tally.failed):
            exc = call.excinfo.value if call.excinfo else None
            message = diagnose(exc) if exc is not None else "failed"
            tally.failed.append((item.name, message))
        return report

    def pytest_terminal_summary(self, terminalreporter) -> None:
        out = io.StringIO()
        console = Console(
            file=out, force_terminal=terminalreporter.hasmarkup, width=100, highlight=False
        )
        render_progress(list(catalogue_mod.load()), self.tallies, console)
        terminalreporter.write(out.getvalue())


def render_progress(
    exercises: list[Exercise], tallies: dict[str, _Tally], console: Console
) -> None:
    ran = [e for e in exercises if e.slug in tallies]
    solved = [e for e in ran if not tallies[e.slug].failed and tallies[e.slug].passed]
    passed = sum(t.passed for t in tallies.values())
    total = sum(t.total for t in tallies.values())
    table = Table(
        title=f"Progress: {len(solved)} of {len(exercises)} exercises solved · "
        f"visible tests {passed}/{total}",
        title_justify="left",
    )
    for col in ("#", "exercise", "status", "visible tests"):
        table.add_column(col)
    for ex in exercises:
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
    pending = [e for e in ran if e not in solved]
    if pending:
        nxt = pending[0]
        name, message = tallies[nxt.slug].failed[0]
        console.print(Text(f"Next: {nxt.stem}: {nxt.title}", style="bold"))
        console.print(Text(f"  ✗ {name}: {message}", style="red"))
        console.print(
            f"  Edit exercises/{nxt.module_file}; for a hint run: tox -e hint -- {nxt.slug}"
        )
    elif ran:
        console.print(Text("Every visible test passes. Well done!", style="green bold"))
    console.print(
        Text(
            "Remember: the grade adds hidden tests (more inputs, timing under load, races "
            "amplified), so passing the visible tests is necessary, not sufficient. "
            "Run `tox -e race` to hunt races locally.",
            style="dim",
        )
    )
