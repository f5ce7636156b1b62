"""Every output format of one graded submission, by name (``--format``).

``grader grade --format FMT`` and ``grader batch --format FMT`` both use this
table, so a format added here serves both.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from grader import atomic
from grader.reports.sanitize import workflow_safe
from grader.results import GradeReport


@dataclass(frozen=True)
class Format:
    name: str
    filename: str  # the file a batch writes per student
    description: str
    renderer: Callable[[GradeReport], str]

    def render(self, report: GradeReport) -> str:
        """The report in this format; no line of it is a GitHub Actions workflow command."""
        return workflow_safe(self.renderer(report))


def _gradescope(report: GradeReport) -> str:
    from grader.reports import gradescope

    return gradescope.dumps(gradescope.to_dict(report))


def _junit(report: GradeReport) -> str:
    from grader.reports import junit

    return junit.render(report)


def _markdown(report: GradeReport) -> str:
    from grader.reports import markdown

    return markdown.render(report)


def _csv(report: GradeReport) -> str:
    from grader.reports import table

    return table.render(report)


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format("gradescope", "results.json", "Gradescope's results.json", _gradescope),
        Format("junit", "junit.xml", "JUnit XML for CI test reporters", _junit),
        Format("markdown", "feedback.md", "Markdown feedback", _markdown),
        Format("csv", "tests.csv", "CSV, one row per hidden test", _csv),
    )
}


def parse(names: str | list[str] | None) -> list[str]:
    """``"junit,csv"`` or ``["junit", "csv"]`` to known format names (ValueError otherwise)."""
    if not names:
        return []
    if isinstance(names, str):
        names = [names]
    out: list[str] = []
    for item in names:
        for name in item.split(","):
            name = name.strip().lower()
            if not name:
                continue
            if name not in FORMATS:
                raise ValueError(f"unknown format {name!r} (known: {', '.join(FORMATS)})")
            if name not in out:
                out.append(name)
    return out


def render(report: GradeReport, name: str) -> str:
    return FORMATS[name].render(report)


def write(report: GradeReport, name: str, path: str | Path) -> None:
    atomic.write_text(path, render(report, name))
