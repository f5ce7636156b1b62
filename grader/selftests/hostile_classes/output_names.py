"""Entries named like the class's own output (in any case, as a folder or a zip), names
with nothing to make an id from, a hidden one, too long a name; and a folder left at
OUT/grades.csv by an older grader, which must not stop the class files being written."""

from __future__ import annotations

from pathlib import Path

from grader.selftests.hostile_classes._kit import MODULE, SOLUTION, honest, zip_bytes


def build(class_dir: Path) -> None:
    honest(class_dir)
    for name in ("grades.csv", "summary.json", "report.html", "...", ". .", "_", ".hidden",
                 "_template", "x" * 200):  # fmt: skip
        honest(class_dir, name)
    (class_dir / "Report.HTML.zip").write_bytes(zip_bytes([(MODULE, SOLUTION)]))
    (class_dir / "SUMMARY.JSON").write_text("{}")


def before_run(out_dir: Path, run: int) -> None:
    if run == 0:  # what an older grader wrote for a student folder named grades.csv
        (out_dir / "grades.csv").mkdir(parents=True)
        (out_dir / "grades.csv" / "feedback.md").write_text("# grades.csv: graded\n")


EXPECT = {
    "refused": {
        "grades.csv": "reserved for the class files",
        "summary.json": "reserved for the class files",
        "report.html": "reserved for the class files",
        "Report.HTML.zip": "reserved for the class files",
        "SUMMARY.JSON": "not a folder or a .zip",
        "...": "no letters or digits",
        ". .": "no letters or digits",
        "_": "no letters or digits",
        ".hidden": "hidden",
        "_template": "hidden",
        "x" * 200: "too long",
    },
    "graded": {"honest": "full"},
    "absent": ["x" * 100, "x" * 97 + "..."],
    "runs": 2,
}
