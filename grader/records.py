"""The record stream between a pytest run and the grader: one JSON object per line.

The child process announces the plan (every test, with its exercise and
category) before any student code is imported, then a ``start`` and a
``result`` record per test. A test that started but has no result crashed or
hung the process; one that never started gets no score.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class TestInfo:
    nodeid: str
    exercise: str | None
    category: str | None
    weight: float
    title: str


@dataclass
class TestResult:
    info: TestInfo
    outcome: str  # passed | failed | error | ungradable | missing
    diagnosis: str
    duration: float = 0.0


class RecordWriter:
    """Appends records to a file, flushing each one so a crash loses nothing."""

    def __init__(self, path: str | Path) -> None:
        self._fh = open(path, "a", encoding="utf-8")  # noqa: SIM115 - lives for the session
        self._done: set[str] = set()

    def _write(self, **record: Any) -> None:
        self._fh.write(json.dumps(record) + "\n")
        self._fh.flush()

    def meta(self, **fields: Any) -> None:
        self._write(event="meta", **fields)

    def plan(self, tests: list[TestInfo]) -> None:
        self._write(event="plan", tests=[asdict(t) for t in tests])

    def start(self, nodeid: str) -> None:
        self._write(event="start", nodeid=nodeid)

    def done(self, nodeid: str) -> bool:
        return nodeid in self._done

    def result(self, nodeid: str, outcome: str, diagnosis: str, duration: float) -> None:
        self._done.add(nodeid)
        self._write(
            event="result", nodeid=nodeid, outcome=outcome, diagnosis=diagnosis, duration=duration
        )

    def close(self) -> None:
        self._fh.close()


def read_records(path: str | Path) -> list[dict[str, Any]]:
    """Every complete record in the file; a torn last line (crash mid-write) is ignored."""
    records = []
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return records
    for line in text.splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records
