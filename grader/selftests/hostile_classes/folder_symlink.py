"""Folders that are links (they used to vanish with no row), and links inside a folder:
the exercise module itself, and the exercises/ folder of a repo."""

from __future__ import annotations

import os
from pathlib import Path

from grader.selftests.hostile_classes._kit import MODULE, honest


def build(class_dir: Path) -> None:
    honest(class_dir)
    outside = class_dir.parent / "outside"
    honest(outside, "solution")
    os.symlink("honest", class_dir / "twin")
    os.symlink(outside / "solution", class_dir / "outsider")
    os.symlink("/", class_dir / "root")
    (class_dir / "module_link").mkdir()
    os.symlink(outside / "solution" / MODULE, class_dir / "module_link" / MODULE)
    (class_dir / "repo_link").mkdir()
    os.symlink(outside / "solution", class_dir / "repo_link" / "exercises")


EXPECT = {
    "refused": {
        "twin": "symbolic link",
        "outsider": "symbolic link",
        "root": "symbolic link",
        "module_link": "no exercise files found",
        "repo_link": "no exercise files found",
    },
    "graded": {"honest": "full"},
}
