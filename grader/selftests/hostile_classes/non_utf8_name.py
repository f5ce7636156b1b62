"""Names that are not UTF-8: a student folder, a zip, and files inside an honest folder."""

from __future__ import annotations

import os
from pathlib import Path

from grader.selftests.hostile_classes._kit import honest


def build(class_dir: Path) -> None:
    honest(class_dir, b"bob\xff")  # graded: its id is "bob", submitted_as shows the byte
    honest(class_dir, b"\xfe\xfd.zip", layout="zip")  # nothing left to make an id from
    honest(class_dir, "carol")
    base = os.fsencode(class_dir / "carol")
    for raw in (b"\xff.py", b"caf\xe9.txt", b"\xc3\x28"):
        with open(base + b"/" + raw, "wb") as fh:
            fh.write(b"x = 1\n")


EXPECT = {
    "refused": {b"\xfe\xfd.zip": "no letters or digits"},
    "graded": {b"bob\xff": "full", "carol": "full"},  # both honest: the reference solution
}
