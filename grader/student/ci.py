"""Reports of a visible-test run for CI: job summary, annotations, results.json, JUnit XML.

Input is the JSON that ``--student-report`` writes (see :mod:`grader.student.plugin`).
On GitHub Actions (``GITHUB_ACTIONS=true``) ``grader check`` prints
``::error file=…,line=…::`` workflow commands at the student's own lines and
appends a per-exercise table to ``$GITHUB_STEP_SUMMARY``. With ``--only-started``
(``tox -e ci``) an exercise whose file is still the original stub is "not started":
no annotation, skipped in JUnit, and it does not fail the run (:func:`started_verdict`).

Messages come from the student's code: every writer here passes them through
:mod:`grader.reports.sanitize` (an annotation's data is one escaped line, the
summary shows them in code spans, results.json declares them plain text).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.catalogue import Catalogue, Exercise
from grader.reports import gradescope
from grader.reports.sanitize import json_text, markdown_text, plain, workflow_safe, xml_text

HIDDEN_NOTE = (
    "These are the visible tests only. The grade adds hidden tests (more inputs, "
    "timing under load, races amplified): passing every visible test is necessary, "
    "not sufficient."
)


@dataclass
class ExerciseRun:
    exercise: Exercise
    tests: list[dict[str, Any]] = field(default_factory=list)
    started: bool = True  # False: the file is still the original stub

    @property
    def passed(self) -> int:
        return sum(t["outcome"] == "passed" for t in self.tests)

    @property
    def failures(self) -> list[dict[str, Any]]:
        return [t for t in self.tests if t["outcome"] == "failed"]

    @property
    def status(self) -> str:
        if not self.started:
            return "not started"
        if not self.tests:
            return "not run"
        return "solved" if not self.failures else f"{len(self.failures)} failing"


def by_exercise(
    report: dict[str, Any], cat: Catalogue, not_started: set[str] | frozenset[str] = frozenset()
) -> list[ExerciseRun]:
    """The run's tests per exercise; ``not_started``: slugs still the original stub."""
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for test in report.get("tests", []):
        grouped[test["exercise"]].append(test)
    return [ExerciseRun(ex, grouped.get(ex.slug, []), ex.slug not in not_started) for ex in cat]


def started_verdict(runs: list[ExerciseRun]) -> tuple[str, bool]:
    """CI's rule (``grader check --only-started``): pass when every exercise the student
    has started passes its visible tests, so a pull request shows progress instead of
    staying red until all of them are solved. Untouched stubs are "not started"."""
    started = [r for r in runs if r.started and r.tests]
    failing = [r.exercise.slug for r in started if r.failures]
    waiting = [r.exercise.slug for r in runs if not r.started]
    solved = len(started) - len(failing)
    counts = f"{solved} solved, {len(failing)} failing, {len(waiting)} not started"
    if failing:
        return f"CI: fails ({counts}): started but failing: {', '.join(failing)}.", False
    return f"CI: passes ({counts}): every exercise you have started passes.", True


# --- GitHub workflow commands ---------------------------------------------------------------


def _escape_data(text: str) -> str:
    return plain(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotations(runs: list[ExerciseRun]) -> list[str]:
    """One ``::error`` per failing exercise, at the student's line (GitHub shows ten a step)."""
    lines = []
    for run in runs:
        failures = run.failures
        if not failures or not run.started:
            continue
        first = failures[0]
        more = f" (and {len(failures) - 1} more failing)" if len(failures) > 1 else ""
        title = f"{run.exercise.slug}: {first['name']}{more}"
        message = first["message"]
        if first.get("frames"):
            message += "\nIn your code:\n" + "\n".join(first["frames"])
        props = [f"file={_escape_property(first.get('file') or run.exercise.module_file)}"]
        if first.get("line"):
            props.append(f"line={int(first['line'])}")
        props.append(f"title={_escape_property(title)}")
        lines.append(f"::error {','.join(props)}::{_escape_data(message)}")
    return lines


def _cell(text: str, limit: int = 160) -> str:
    text = " ".join(plain(text).split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return markdown_text(text, table_cell=True) or " "


def summary_markdown(runs: list[ExerciseRun], only_started: bool = False) -> str:
    ran = [r for r in runs if r.tests]
    solved = sum(r.status == "solved" for r in ran)
    passed = sum(r.passed for r in ran)
    total = sum(len(r.tests) for r in ran)
    waiting = sum(not r.started for r in runs)
    out = [
        "## Exercises: visible tests",
        "",
        f"**{solved} of {len(runs)} exercises solved** · {waiting} not started · "
        f"visible tests {passed}/{total}",
        "",
    ]
    if only_started:
        out += [
            "This check passes when every exercise you have started passes its visible "
            "tests; exercises still the original stub are *not started* and do not fail it.",
            "",
        ]
    out += [
        "| # | exercise | status | visible tests | diagnosis |",
        "| --- | --- | --- | --- | --- |",
    ]
    for run in runs:
        marks = {"solved": "✅ solved", "not run": "➖ not run", "not started": "➖ not started"}
        mark = marks.get(run.status, f"❌ {run.status}")
        score = f"{run.passed}/{len(run.tests)}" if run.tests else "-"
        diagnosis = ""
        if run.failures and run.started:
            first = run.failures[0]
            place = f"{first.get('file')}:{first.get('line')}"
            where = f" ({_cell(place)})" if first.get("file") else ""
            diagnosis = f"{_cell(first['name'])}: {_cell(first['message'])}{where}"
        out.append(
            f"| {run.exercise.order:02d} | `{run.exercise.slug}` | {mark} | {score} | "
            f"{diagnosis or ' '} |"
        )
    out += ["", f"> {HIDDEN_NOTE}", ""]
    return workflow_safe("\n".join(out))


# --- files ----------------------------------------------------------------------------------


def results_json(runs: list[ExerciseRun]) -> dict[str, Any]:
    """Gradescope's schema, one visible test per entry (1 point each)."""
    tests = []
    for run in runs:
        for number, t in enumerate(run.tests, 1):
            ok = t["outcome"] == "passed"
            output = "" if ok else t["message"]
            if not ok and t.get("file"):
                output += f"\n(look at {t['file']}:{t['line']})"
            tests.append(
                gradescope.test_entry(
                    name=f"{run.exercise.slug} · {t['name']}",
                    number=f"{run.exercise.order}.{number}",
                    score=1.0 if ok else 0.0,
                    max_score=1.0,
                    passed=ok,
                    output=output,
                    visibility="visible",
                    tags=[run.exercise.slug, "visible"],
                )
            )
    return gradescope.results(
        score=float(sum(t["score"] for t in tests)),
        output=HIDDEN_NOTE,
        tests=tests,
        visibility="visible",
        extra={"kind": "visible tests"},
    )


def write_junit(runs: list[ExerciseRun], path: Path) -> None:
    from junitparser import Failure, JUnitXml, Skipped, TestCase, TestSuite

    xml = JUnitXml(name="visible tests")
    for run in runs:
        if not run.tests:
            continue
        suite = TestSuite(f"{run.exercise.order:02d}_{run.exercise.slug}")
        for t in run.tests:
            name, classname = xml_text(t["name"]), f"tests.{run.exercise.stem}"
            case = TestCase(name, classname=classname, time=t["duration"])
            if t["outcome"] == "failed" and not run.started:
                case.result = [Skipped("not started: still the original stub")]
            elif t["outcome"] == "failed":
                message = xml_text(t["message"])
                failure = Failure(message.splitlines()[0] if message else "failed")
                failure.text = workflow_safe(xml_text("\n".join([message, *t.get("frames", [])])))
                case.result = [failure]
            suite.add_testcase(case)
        xml.add_testsuite(suite)
    xml.write(str(path), pretty=True)
    text = Path(path).read_text(encoding="utf-8")
    Path(path).write_text(workflow_safe(text), encoding="utf-8")  # names may hold newlines


def write_json(data: dict[str, Any], path: Path) -> None:
    Path(path).write_text(json_text(data), encoding="utf-8")
