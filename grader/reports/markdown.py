"""Markdown feedback for a student: the scorecard, then every failure with its diagnosis.

Text the grader did not write itself (diagnoses, test titles, grader errors,
notices) goes in code spans (:func:`grader.reports.sanitize.markdown_text`):
a diagnosis that quotes ``<script>`` or ``[x](javascript:…)`` shows as written.
"""

from __future__ import annotations

from grader.catalogue import CATEGORIES
from grader.reports.sanitize import markdown_text, workflow_safe
from grader.results import GradeReport


def _cell(earned: float, possible: float, ungradable: bool) -> str:
    if ungradable:
        return "n/a"
    return "–" if possible == 0 else f"{earned:g}/{possible:g}"


def _escape(text: str) -> str:
    return markdown_text(text) or "(no message)"


def _title(text: str | None) -> str:
    """The heading's name: ours (``Grade``) or a student id, shown literally."""
    return markdown_text(text) if text else "Grade"


def render(report: GradeReport, title: str | None = None) -> str:
    lines = [
        f"# {_title(title)}: {report.earned:g}/{report.possible:g}",
        "",
        "| # | exercise | " + " | ".join(CATEGORIES) + " | total |",
        "| ---: | --- | " + " | ".join(":---:" for _ in CATEGORIES) + " | ---: |",
    ]
    for ex in report.exercises:
        cells = [
            _cell(c.earned, c.possible, c.ungradable)
            for c in (ex.categories[k] for k in CATEGORIES)
        ]
        lines.append(
            f"| {ex.exercise.order} | `{ex.exercise.slug}` | "
            + " | ".join(cells)
            + f" | {ex.earned:g}/{ex.possible:g} |"
        )
    problems = []
    for ex in report.exercises:
        if ex.error:
            problems.append(f"- **{ex.exercise.slug}** (grading): {_escape(ex.error)}")
        # One line per diagnosis: a syntax error that fails every test is said once.
        same: dict[tuple[str, bool], list] = {}
        for res in ex.failures():
            same.setdefault((res.diagnosis, res.outcome == "error"), []).append(res)
        for (diagnosis, error), group in same.items():
            categories = ", ".join(dict.fromkeys(r.info.category for r in group))
            label = "grader error, not your fault" if error else categories
            what = _escape(group[0].info.title) if len(group) == 1 else f"{len(group)} tests"
            problems.append(f"- **{ex.exercise.slug}** [{label}] {what}: {_escape(diagnosis)}")
    lines += ["", "## What to fix", ""]
    lines += problems or ["Nothing: every hidden test passed."]
    ungradable = [
        f"- **{ex.exercise.slug}** {_escape(r.info.title)}: {_escape(r.diagnosis)}"
        for ex in report.exercises
        for c in ex.categories.values()
        for r in c.results
        if r.outcome == "ungradable"
    ]
    if ungradable:
        lines += ["", "## Not graded on this machine (left out of the maximum)", "", *ungradable]
    lines += [
        "",
        f"_Grader {report.grader_version}, Python {report.python}, {report.cpus} CPU(s), "
        f"race amplifier {report.mechanism}, seed {report.seed}, {report.elapsed:.1f}s._",
    ]
    lines += [f"> note: {_escape(n)}" for n in report.notices]
    return "\n".join(lines) + "\n"


def not_graded(student: str, reason: str) -> str:
    """feedback.md of a submission that could not be graded (the reason says why)."""
    return workflow_safe(f"# {_title(student)}: not graded\n\n{_escape(reason)}\n")
