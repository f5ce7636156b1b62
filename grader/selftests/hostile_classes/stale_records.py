"""OUT as an earlier run (or someone with access to it) may leave it: a record forged
with the right fingerprint but the wrong types, a named pipe, a link to /dev/zero, JSON
nested too deep for the parser, and a student folder that is a link out of OUT. Each
counts as absent: the student is graded again, and nothing is written through the link."""

from __future__ import annotations

import json
import os
from pathlib import Path

from grader.selftests.hostile_classes._kit import honest

STUDENTS = ("forged", "pipe", "zero", "nested", "linked")


def build(class_dir: Path) -> None:
    for name in STUDENTS:
        honest(class_dir, name)
    (class_dir.parent / "outside").mkdir(exist_ok=True)


def before_run(out_dir: Path, run: int) -> None:
    if run == 0:
        for name in STUDENTS:
            (out_dir / name).mkdir(parents=True)
        os.mkfifo(out_dir / "pipe" / "grading.json")
        os.symlink("/dev/zero", out_dir / "zero" / "grading.json")
        (out_dir / "nested" / "grading.json").write_text("[" * 100_000 + "]" * 100_000)
        (out_dir / "linked").rmdir()
        os.symlink(out_dir.parent / "outside", out_dir / "linked")
    else:  # the right fingerprint, the wrong types
        record = out_dir / "forged" / "grading.json"
        forged = json.loads(record.read_text())
        forged.update(earned="999", tests="x", exercises={"concepts": {"earned": None}})
        record.write_text(json.dumps(forged))


EXPECT = {
    "graded": {name: "full" for name in STUDENTS},
    "runs": 2,
}
