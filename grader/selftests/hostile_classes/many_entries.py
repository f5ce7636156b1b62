"""Too many entries: a zip of 10 001 members (refused from its end record, before
zipfile lists them), a folder of 10 001 files, and a tree 300 folders deep with the
module at the bottom (never walked that deep; no recursion)."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

from grader.selftests.hostile_classes._kit import MODULE, SOLUTION, honest

N = 10_001


def build(class_dir: Path) -> None:
    honest(class_dir)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(f"exercises/{MODULE}", SOLUTION)
        for i in range(N):
            zf.writestr(f"d/{i}", b"")
    (class_dir / "many.zip").write_bytes(buf.getvalue())
    honest(class_dir, "many_files")
    for i in range(N):
        (class_dir / "many_files" / f"f{i}").touch()
    deep = os.open(class_dir, os.O_RDONLY | os.O_DIRECTORY)
    os.mkdir("deep", dir_fd=deep)
    for _ in range(300):
        nxt = os.open("deep" if _ == 0 else "d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=deep)
        os.close(deep)
        deep = nxt
        os.mkdir("d", dir_fd=deep)
    with open(os.open(MODULE, os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=deep), "wb") as fh:
        fh.write(SOLUTION)
    os.close(deep)


EXPECT = {
    "refused": {
        "many.zip": "too many entries",
        "many_files": "too many files and folders",
        "deep": "no exercise files found",
    },
    "graded": {"honest": "full"},
}
