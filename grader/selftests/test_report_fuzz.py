"""Fuzz of the output side: text a submission controls never injects into a report.

Synthetic grade reports (no grading, so this runs in seconds) carry arbitrary
Unicode, and the known dangerous forms, as diagnoses, grader errors, notices,
student ids and the names entries were submitted as; every output format is
then read as its consumer reads it (:mod:`grader.dev.report_validators`):
the CSV files by the ``csv`` module, the JUnit XML by junitparser and
xml.etree, the Markdown by markdown-it, the class report by html.parser, the
terminal output as a terminal and a GitHub Actions log would see it.
"""

from __future__ import annotations

import json
import os
from io import StringIO

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console

from grader import atomic
from grader.batch import report_html
from grader.batch.class_files import grades_csv, summarise
from grader.batch.outputs import ALWAYS, write_student
from grader.batch.student_records import error_record, record_of
from grader.catalogue import CATEGORIES, load
from grader.dev import report_validators as valid
from grader.grading.runner import HiddenTestRun
from grader.grading.scoring import score_exercise
from grader.reports import formats, sanitize, terminal
from grader.results import GradeReport
from grader.results import TestInfo as Info
from grader.results import TestResult as Result

CAT = load()
EXERCISES = list(CAT)[:3]
DANGEROUS = [
    '=HYPERLINK("http://x","y")', "+1+2", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "\uff1d1+1",
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "[x](javascript:alert(1))",
    "![i](javascript:alert(1))", "<javascript:alert(1)>", "<http://x.example>", "&lt;b&gt;",
    "`", "``code``", "\x1b[31mred", "\x1b]52;c;cHduZWQ=\x07", "\x1b]8;;http://x\x1b\\l\x1b]8;;\x1b\\",
    "\x9b2J", "\x00", "\x7f", "\u202e", "\u2066", "\u200f", "\udcff", "\ud800", "\ufffe",
    "\uffff", "\U000e0041", "\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\r", "\n", "\r\n",
    "\n::stop-commands::x", "::set-output name=x::y", "\n  ::error::boom", "##[error]x",
    "::add-mask::", "[bold red]markup[/]", "[link=javascript:alert(1)]x[/link]", ":smile:",
    "|", "\\", "*", "_", "#", "1.", "- ", "> ", "%0A", "%", ";", ",", '"', "'",
]  # fmt: skip

hostile_text = st.lists(
    st.one_of(
        st.sampled_from(DANGEROUS),
        st.text(st.characters(codec=None, categories=None), max_size=8),
        st.text(st.characters(min_codepoint=0, max_codepoint=0x3000), max_size=8),
        st.text(st.characters(categories=["Cs", "Cc", "Cf", "Zl", "Zp", "Cn"]), max_size=4),
    ),
    max_size=6,
).map("".join)


def _results(slug: str, category: str, texts: list[str], outcomes: list[str]) -> list[Result]:
    return [
        Result(
            Info(f"test_{slug}.py::t{i}", slug, category, 1.0, title),
            outcome,
            diagnosis,
            duration=0.1 * i,
            ratio=1.5 if category == "timing" else None,
        )
        for i, (title, diagnosis, outcome) in enumerate(
            zip(texts, [*texts[1:], *texts[:1]], outcomes, strict=True)
        )
    ]


@st.composite
def reports(draw) -> GradeReport:
    """A report as :func:`grader.grading.scoring.grade` builds it, from hostile test results."""
    outcomes = st.sampled_from(["passed", "failed", "error", "ungradable", "missing"])
    exercises = []
    for ex in EXERCISES:
        results = []
        for category in CATEGORIES:
            n = draw(st.integers(0, 3))
            texts = draw(st.lists(hostile_text, min_size=n, max_size=n))
            results += _results(
                ex.slug, category, texts, draw(st.lists(outcomes, min_size=n, max_size=n))
            )
        error = draw(st.one_of(st.none(), hostile_text))
        exercises.append(score_exercise(HiddenTestRun(ex, results, error=error, elapsed=1.0)))
    return GradeReport(
        submission=draw(hostile_text),
        exercises=exercises,
        seed=draw(st.integers(0, 2**32 - 1)),
        python="3.11.7",
        cpus=2,
        mechanism="monitoring",
        elapsed=2.5,
        notices=draw(st.lists(hostile_text, max_size=2)),
    )


def rows_of(report: GradeReport) -> int:
    tests = sum(len(c.results) for ex in report.exercises for c in ex.categories.values())
    return tests + sum(bool(ex.error) for ex in report.exercises)


def terminal_output(report: GradeReport, *, force_terminal: bool) -> str:
    out = StringIO()
    colours = "standard" if force_terminal else None
    console = Console(file=out, force_terminal=force_terminal, width=60, color_system=colours)
    terminal.render(report, console)
    return out.getvalue()


FUZZ = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@pytest.fixture
def no_fsync(monkeypatch):
    """Files are still written atomically, without waiting for the disk (speed only)."""
    monkeypatch.setattr(atomic.os, "fsync", lambda fd: None)


@FUZZ
@given(report=reports())
def test_every_format_of_one_report_stays_valid(report):
    """``grader grade``: the terminal scorecard and every ``--format``."""
    for name in formats.FORMATS:
        text = valid.check_text(formats.render(report, name))
        if name == "csv":
            valid.check_csv(text, rows=rows_of(report))
        elif name == "junit":
            valid.check_junit(text)
        elif name == "markdown":
            valid.check_markdown(text)
        else:
            data = valid.check_json(text)
            assert len(data["tests"]) == rows_of(report)
    valid.check_text(terminal_output(report, force_terminal=False))
    valid.check_text(terminal_output(report, force_terminal=True), sgr=True)


@FUZZ
@given(
    report=reports(),
    students=st.lists(st.tuples(hostile_text, hostile_text), min_size=1, max_size=3),
    broken=st.tuples(hostile_text, hostile_text),
)
def test_class_files_stay_valid(report, students, broken, tmp_path_factory, no_fsync):
    """``grader batch``: every student's files, grades.csv, summary.json and report.html."""
    out = tmp_path_factory.mktemp("out")
    records = []
    for i, (student, submitted_as) in enumerate(students):
        rec = record_of(report, f"{student}{i}", "fp", "hash")
        rec["submitted_as"] = submitted_as
        if i == 0:  # untouched stubs only: "not started", in the struggling table too
            rec.update(not_started=[ex.slug for ex in EXERCISES], started=False)
        records.append(rec)
        write_student(out, f"s{i}", rec, report, list(formats.FORMATS))
    bad = error_record(broken[0] + "x", broken[1] or "why")
    bad["submitted_as"] = broken[0]
    write_student(out, "broken", bad, None, list(ALWAYS))
    records.append(bad)
    slugs = [ex.slug for ex in EXERCISES]
    summary = summarise(records, slugs, {"workers": 1})
    grades = valid.check_text(grades_csv(records, slugs))
    table = valid.check_csv(grades, rows=len(records))
    assert table[0][:3] == ["student", "submitted_as", "status"]
    valid.check_text(sanitize.json_text(summary))
    page = valid.check_text(report_html.render(records, summary, slugs))
    valid.check_html_report(page)
    assert valid.check_folder(out) >= 3 * len(students) + 2


def test_diagnoses_rank_by_students_not_tests():
    """One student's made-up message on every test cannot top the class's diagnoses."""

    def record(student: str, diagnoses: list[str]) -> dict:
        tests = [
            {"exercise": "concepts", "category": "correctness", "title": f"t{i}",
             "outcome": "failed", "diagnosis": d, "duration": 0.0, "ratio": None}
            for i, d in enumerate(diagnoses)
        ]  # fmt: skip
        return {"student": student, "status": "graded", "error": None, "earned": 0.0,
                "possible": 10.0, "exercises": {}, "tests": tests}  # fmt: skip

    records = [record("mallory", ["=CLICK ME: you all failed"] * 20)]
    records += [record(f"s{i}", [f"got {i} instead of 'x{i}'"]) for i in range(3)]
    top = summarise(records, ["concepts"], {})["diagnoses"]
    assert top[0]["students"] == 3 and top[0]["count"] == 3, top
    assert top[1]["students"] == 1 and top[1]["count"] == 20, top


@pytest.mark.parametrize("text", DANGEROUS)
def test_each_dangerous_form_alone(text):
    """Each known form on its own, through the one place per format that neutralises it."""
    valid.check_no_controls(sanitize.plain(text))
    cell = sanitize.csv_cell(text)
    assert str(cell).lstrip(" ")[:1] not in valid.FORMULA_START, cell
    valid.check_markdown(f"- x: {sanitize.markdown_text(text)}\n")
    valid.check_html_report(f"<p>{sanitize.html_text(text)}</p>")
    valid.check_junit(f'<testsuite name="{sanitize.html_text(sanitize.xml_text(text))}"/>')
    valid.check_text(sanitize.workflow_safe(sanitize.terminal_text(text)))
    json.loads(sanitize.json_text({"t": text}))


@pytest.mark.pack
def test_grade_command_outputs_of_an_injecting_submission(tmp_path):
    """``grader grade`` on a submission whose failure messages carry every dangerous form
    (:mod:`grader.selftests.hostile_classes.injected_text`): the terminal output (plain,
    and in colour), results.json, and every ``--format``, to a file and to stdout."""
    import subprocess
    import sys

    from grader.selftests.hostile_classes import injected_text

    sub = injected_text.write_submission(tmp_path / "sub")
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "NO_COLOR")}
    seen = []
    for fmt, colour in (("junit", False), ("markdown", True), ("csv", False)):
        out = tmp_path / f"out.{fmt}"
        to_file = fmt != "markdown"  # markdown goes to stdout, the scorecard to stderr
        args = [sys.executable, "-m", "grader", "grade", str(sub), "--only", "concepts",
                "--seed", "1", "--json", str(tmp_path / "results.json"),
                "--format", fmt]  # fmt: skip
        args += ["--output", str(out)] if to_file else []
        run_env = {**env, "FORCE_COLOR": "1", "TERM": "xterm-256color"} if colour else env
        proc = subprocess.run(args, capture_output=True, env=run_env, timeout=300)
        assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")[-2000:]
        terminal = valid.check_text(proc.stderr if not to_file else proc.stdout, sgr=colour)
        assert "Checklist answer" in terminal and ("\x1b[" in terminal) == colour
        text = valid.check_text(out.read_bytes() if to_file else proc.stdout)
        {"junit": valid.check_junit, "markdown": valid.check_markdown,
         "csv": lambda t: valid.check_csv(t, rows=10)}[fmt](text)  # fmt: skip
        data = valid.check_json(valid.check_text((tmp_path / "results.json").read_bytes()))
        seen.append(" ".join(t["output"] for t in data["tests"]))
    # The messages arrived (neutralised, not dropped): the formula, the markup, the command.
    for part in ("=HYPERLINK(", "<script>", "[bold red]", "stop-commands", "\\x1b]52"):
        assert part in seen[0], (part, seen[0][:2000])


@FUZZ
@given(
    messages=st.lists(hostile_text, min_size=1, max_size=4),
    names=st.lists(hostile_text, min_size=1, max_size=4),
    frames=st.lists(hostile_text, max_size=3),
)
def test_student_side_outputs_stay_valid(messages, names, frames, tmp_path_factory):
    """``grader check`` / plain ``tox``: the failure text pytest shows, the progress table,
    and the CI files (annotations, job summary, results.json, JUnit XML)."""
    from grader.student import ci as student_ci
    from grader.student import failures, outcomes
    from grader.student import summary as student_summary

    folder = tmp_path_factory.mktemp("student")
    ex = EXERCISES[0]
    tally = outcomes.Tally()
    tests = []
    for i, (message, name) in enumerate(zip(messages, [*names, *messages], strict=False)):
        outcome = failures.describe_failure(name, ex, AssertionError(message), folder, folder)
        outcome.frames = [sanitize.terminal_text(f) for f in frames]
        valid.check_text(failures.render_failure(outcome))
        tally.failed.append((outcome.name, (outcome.message.splitlines() or [""])[0]))
        tally.tests.append(outcome)
        tests.append({**outcome.__dict__, "nodeid": f"t{i}", "frames": frames, "file": name,
                      "line": i + 1, "message": message, "name": name})  # fmt: skip
    for force_terminal in (False, True):
        out = StringIO()
        console = Console(file=out, force_terminal=force_terminal, width=60, highlight=False)
        student_summary.render_progress(EXERCISES, {ex.slug: tally}, console)
        valid.check_text(sanitize.workflow_safe(out.getvalue()), sgr=force_terminal)
    runs = student_ci.by_exercise({"tests": tests}, CAT)
    for line in student_ci.annotations(runs):
        valid.check_no_controls(valid.check_utf8(line))  # a command of ours, on one line:
        assert line.startswith("::error ") and len(line.splitlines()) == 1, line
    summary = valid.check_text(student_ci.summary_markdown(runs))
    rendered = valid.check_markdown(summary)
    assert rendered.count("<code>") >= 2
    student_ci.write_json(student_ci.results_json(runs), folder / "results.json")
    student_ci.write_junit(runs, folder / "junit.xml")
    valid.check_json(valid.check_text((folder / "results.json").read_bytes()))
    valid.check_junit(valid.check_text((folder / "junit.xml").read_bytes()))
