"""JUnit XML (GitLab, Jenkins and other CI test reporters), built with ``junitparser``.

One ``<testsuite>`` per exercise, one ``<testcase>`` per hidden test
(``classname`` is ``slug.category``); a failed test carries its diagnosis as
the failure message, a grader error is an ``<error>``, a test that cannot be
measured on this machine is ``<skipped>``. Run metadata (seed, Python, CPU
count, grader version) are properties of every suite. Every text passes
through :func:`grader.reports.sanitize.xml_text` (no character XML forbids).
"""

from __future__ import annotations

from junitparser import Error, Failure, JUnitXml, Skipped, TestCase, TestSuite

from grader.reports.sanitize import xml_text as _x
from grader.results import GradeReport


def to_xml(report: GradeReport) -> JUnitXml:
    xml = JUnitXml(name=_x(f"grader: {report.submission}"))
    for ex in report.exercises:
        suite = TestSuite(_x(f"{ex.exercise.order:02d} {ex.exercise.slug}"))
        for key, value in (
            ("seed", report.seed),
            ("python", report.python),
            ("cpus", report.cpus),
            ("race_mechanism", report.mechanism),
            ("grader_version", report.grader_version),
            ("score", f"{ex.earned:g}/{ex.possible:g}"),
        ):
            suite.add_property(key, _x(value))
        for cat in ex.categories.values():
            for res in cat.results:
                case = TestCase(_x(res.info.title), _x(f"{ex.exercise.slug}.{cat.category}"))
                case.time = round(res.duration, 3)
                if res.outcome == "ungradable":
                    case.result = [Skipped(_x(f"not graded on this machine: {res.diagnosis}"))]
                elif res.outcome == "error":
                    case.result = [Error(_x(f"grader error (not your fault): {res.diagnosis}"))]
                elif res.outcome != "passed":
                    case.result = [Failure(_x(res.diagnosis or "failed"))]
                suite.add_testcase(case)
        if ex.error:
            case = TestCase("grading", _x(f"{ex.exercise.slug}.grader"))
            case.result = [Error(_x(ex.error))]
            suite.add_testcase(case)
        suite.time = round(ex.elapsed, 3)
        xml.add_testsuite(suite)
    xml.time = round(report.elapsed, 3)
    return xml


def render(report: GradeReport) -> str:
    return to_xml(report).tostring().decode("utf-8")
