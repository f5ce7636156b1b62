"""Checks that the class outputs of ``grader batch`` are well-formed, whatever the class held.

:func:`check_outputs` is called by ``test_hostile_classes.py`` for every case that sets
``EXPECT["check_outputs"]``; extend it with the checks of output injection (one place for
all of them).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from grader.dev import report_validators


def check_outputs(out_dir: Path) -> list[dict[str, str]]:
    """grades.csv is UTF-8 CSV with a header and the same number of cells in every row;
    returns its rows."""
    text = (Path(out_dir) / "grades.csv").read_bytes().decode("utf-8")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows, "grades.csv has no header"
    header = rows[0]
    assert "student" in header and "submitted_as" in header, header
    for row in rows[1:]:
        assert len(row) == len(header), row
    # Output injection: every file in OUT, read as its consumer reads it (the validators
    # are shared with test_report_fuzz).
    report_validators.check_folder(Path(out_dir))
    return [dict(zip(header, row, strict=True)) for row in rows[1:]]
