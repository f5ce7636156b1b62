"""CSV: one row per hidden test (exercise, category, test, outcome, score, diagnosis).

Every cell goes through :func:`grader.reports.sanitize.csv_cell`: a diagnosis
that begins with ``=`` is text to a spreadsheet, never a formula.
"""

from __future__ import annotations

import csv
import io

from grader.reports.gradescope import test_entries
from grader.reports.sanitize import csv_cell
from grader.results import GradeReport

COLUMNS = ("exercise", "category", "test", "outcome", "score", "max_score", "seconds", "diagnosis")


def rows(report: GradeReport) -> list[dict[str, object]]:
    entries = iter(test_entries(report))  # same order, same shares as results.json
    out = []
    for ex in report.exercises:
        for cat in ex.categories.values():
            for res in cat.results:
                entry = next(entries)
                out.append(
                    {
                        "exercise": ex.exercise.slug,
                        "category": cat.category,
                        "test": res.info.title,
                        "outcome": res.outcome,
                        "score": entry["score"],
                        "max_score": entry["max_score"],
                        "seconds": round(res.duration, 3),
                        "diagnosis": res.diagnosis,
                    }
                )
        if ex.error:
            next(entries)
            out.append(
                {"exercise": ex.exercise.slug, "category": "grading", "test": "grading",
                 "outcome": "error", "score": 0.0, "max_score": 0.0, "seconds": 0.0,
                 "diagnosis": ex.error}
            )  # fmt: skip
    return out


def render(report: GradeReport) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: csv_cell(v) for k, v in row.items()} for row in rows(report))
    return buf.getvalue()
