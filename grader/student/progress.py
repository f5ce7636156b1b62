"""The student's summary at the end of plain ``tox`` (``pytest --progress``, an option
of the student plugin :mod:`grader.student.plugin`).

Failures are rewritten for students (unless ``--tb`` is given explicitly): the
plain-words message, the test's file and line, and the frames of the student's
own code only (:mod:`grader.student.failures`); the summary shows one exercise
in focus and ends with the advice (:mod:`grader.student.summary`).
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import pytest
from rich.console import Console
from rich.text import Text

from grader import catalogue as catalogue_mod
from grader.catalogue import Exercise
from grader.reports.sanitize import workflow_safe
from grader.student.failures import describe_failure, render_failure
from grader.student.outcomes import Tally, TestOutcome
from grader.student.state import not_started
from grader.student.summary import PACK_COMMANDS, pytest_commands, render_errors, render_progress


class ProgressReporter:
    """A pytest plugin object, registered by ``--progress``.

    In student mode (no explicit ``--tb``) pytest's own failure list is turned off
    (``--tb=no``, no short summary): the terminal summary shows the failures of one
    exercise, the first unsolved (grouped, in plain words), then a one-line progress
    summary, and the advice ("Next: …") is printed last, after pytest's own counts.
    """

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.tallies: dict[str, Tally] = defaultdict(Tally)
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
