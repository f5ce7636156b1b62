"""The student-only pytest plugin, loaded with ``-p grader.student.plugin`` (by
``grader check`` and the project's ``tox -e student``); it sits above the harness
plugin, which stays free of anything student-facing.

``--progress`` registers the progress reporter (:mod:`grader.student.progress`):
failures in plain words and the summary with the next thing to do.
``--student-report FILE`` writes what the reporter saw (every visible test:
outcome, plain-words message, the student's file and line, their own frames) as
JSON, for ``grader status`` and the CI reports (job summary, annotations,
results.json, JUnit XML). It needs ``--progress``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from grader import atomic
from grader.student.progress import ProgressReporter

PROGRESS_PLUGIN = "concurrency-pack-progress"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("concurrency-pack")
    group.addoption("--progress", action="store_true", help="end with the student's progress")
    group.addoption(
        "--student-report", default=None, help="write the visible tests' outcomes as JSON"
    )


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("progress"):
        config.pluginmanager.register(ProgressReporter(config), PROGRESS_PLUGIN)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    path = session.config.getoption("student_report")
    reporter = session.config.pluginmanager.get_plugin(PROGRESS_PLUGIN)
    if not path or reporter is None:
        return
    data = reporter.as_json()
    data["exitstatus"] = int(exitstatus)
    atomic.write_text(Path(path), json.dumps(data, indent=2) + "\n")
