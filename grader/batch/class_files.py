"""The class files of ``grader batch`` other than the HTML report: grades.csv and summary.json.

grades.csv has one row per student (student id, the entry's name as submitted,
status, points per exercise, total, possible, the exercises not started, note);
every cell goes through :func:`grader.reports.sanitize.csv_cell`, so no cell is
a spreadsheet formula.

"Not started": an exercise whose module is byte for byte the pack's stub (its
points are the stub's, shown as graded); a student is "not started" when every
module they handed in is the stub. Not-started exercises and students are left
out of the class statistics and the diagnoses: they are no attempts.

summary.json's "most frequent diagnoses" rank diagnoses by how many students
got them, not by how many tests: one student's made-up message, repeated by
every test they fail, cannot top the class's list.
"""

from __future__ import annotations

import csv
import io
import re
import statistics
from typing import Any

import grader
from grader.reports.sanitize import csv_row, workflow_safe

FAILED = ("failed", "error", "missing")
_NUMBERS = re.compile(r"\d+(\.\d+)?")
_QUOTED = re.compile(r"'[^'\n]{0,200}'|\"[^\"\n]{0,200}\"")


NOT_STARTED = "not started"


def status(rec: dict[str, Any]) -> str:
    """The status shown: the record's, or "not started" for a graded student who handed in
    only untouched stubs."""
    if rec["status"] == "graded" and rec.get("not_started") and rec.get("started") is False:
        return NOT_STARTED
    return rec["status"]


def attempts(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The graded students who started (the class statistics are theirs)."""
    return [r for r in records if status(r) == "graded"]


def started_tests(rec: dict[str, Any]) -> list[dict[str, Any]]:
    """``rec``'s tests, but those of its not-started exercises."""
    skip = set(rec.get("not_started") or ())
    return [t for t in rec.get("tests", []) if t["exercise"] not in skip]


def grades_csv(records: list[dict[str, Any]], slugs: list[str]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    header = ["student", "submitted_as", "status", *slugs, "total", "possible", NOT_STARTED]
    writer.writerow([*header, "note"])
    for rec in records:
        exs = rec.get("exercises") or {}
        scores = [f"{exs[s]['earned']:g}" if s in exs else "" for s in slugs]
        total = f"{rec['earned']:g}" if rec["status"] == "graded" else ""
        possible = f"{rec['possible']:g}" if rec.get("possible") is not None else ""
        waiting = " ".join(s for s in slugs if s in (rec.get("not_started") or ()))
        note = rec.get("error") or "; ".join(rec.get("grader_errors") or [])
        row = [rec["student"], rec.get("submitted_as", ""), status(rec), *scores, total, possible]
        writer.writerow(csv_row([*row, waiting, note]))
    return workflow_safe(buf.getvalue())


def normalise(diagnosis: str) -> str:
    """Group diagnoses that differ only by numbers (timings, counts) or quoted values."""
    text = _QUOTED.sub("'…'", (diagnosis or "").split(";")[0])
    return _NUMBERS.sub("N", text)[:160]


def _diagnoses(graded: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The 15 diagnoses most students got (ties: by name), with how many tests had each."""
    diag: dict[str, dict[str, Any]] = {}
    for r in graded:
        for t in started_tests(r):
            if t["outcome"] in FAILED:
                key = f"{t['exercise']}: {normalise(t['diagnosis'])}"
                d = diag.setdefault(key, {"count": 0, "students": [], "example": t["diagnosis"]})
                d["count"] += 1
                if r["student"] not in d["students"]:
                    d["students"].append(r["student"])
    top = sorted(diag.items(), key=lambda kv: (-len(kv[1]["students"]), kv[0]))[:15]
    return [
        {
            "diagnosis": k,
            "count": v["count"],
            "students": len(v["students"]),
            "examples": v["students"][:3],
            "example": v["example"],
        }
        for k, v in top
    ]


def summarise(records: list[dict[str, Any]], slugs: list[str], run: dict[str, Any]) -> dict:
    graded = attempts(records)
    totals = [r["earned"] for r in graded]
    per_exercise = {}
    for slug in slugs:
        began = [r for r in graded if slug not in (r.get("not_started") or ())]
        rows = [r["exercises"][slug] for r in began if slug in r["exercises"]]
        cats: dict[str, list[int]] = {}
        for r in began:
            for t in r["tests"]:
                if t["exercise"] == slug and t["outcome"] != "ungradable":
                    c = cats.setdefault(t["category"], [0, 0])
                    c[0] += t["outcome"] == "passed"
                    c[1] += 1
        per_exercise[slug] = {
            "mean": round(statistics.fmean(x["earned"] for x in rows), 3) if rows else None,
            "possible": rows[0]["possible"] if rows else None,
            "students": len(rows),  # who started it
            "not_started": sum(slug in (r.get("not_started") or ()) for r in records),
            "full_marks": sum(x["earned"] >= x["possible"] > 0 for x in rows),
            "test_pass_rate": {k: round(p / n, 4) for k, (p, n) in cats.items() if n},
        }
    return {
        "grader_version": grader.__version__,
        "students": len(records),
        "graded": len(graded),
        "errors": [{"student": r["student"], "reason": r["error"]} for r in records if r["error"]],
        "pending": [r["student"] for r in records if r["status"] == "pending"],
        "not_started": [r["student"] for r in records if status(r) == NOT_STARTED],
        "possible": next((r["possible"] for r in records if r["status"] == "graded"), None),
        "mean": round(statistics.fmean(totals), 3) if totals else None,
        "median": statistics.median(totals) if totals else None,
        "exercises": per_exercise,
        "diagnoses": _diagnoses(graded),
        "run": run,
    }
