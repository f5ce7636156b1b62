"""Student-only pytest options, loaded with ``-p grader.student_plugin`` by ``grader check``.

``--student-report FILE`` writes what the progress reporter saw (every visible
test: outcome, plain-words message, the student's file and line, their own
frames) as JSON, for ``grader status`` and the CI reports (job summary,
annotations, results.json, JUnit XML). It needs ``--progress``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("concurrency-pack")
    group.addoption(
        "--student-report", default=None, help="write the visible tests' outcomes as JSON"
    )


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    path = session.config.getoption("student_report")
    reporter = session.config.pluginmanager.get_plugin("concurrency-pack-progress")
    if not path or reporter is None:
        return
    data = reporter.as_json()
    data["exitstatus"] = int(exitstatus)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    tmp.replace(target)
