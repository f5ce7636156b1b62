"""Zips that are links: to another student's zip (graded as the attacker's before), to a
zip outside the class folder, a dangling one, and one that loops."""

from __future__ import annotations

import os
from pathlib import Path

from grader.selftests.hostile_classes._kit import honest


def build(class_dir: Path) -> None:
    honest(class_dir, "victim.zip", layout="zip")
    os.symlink("victim.zip", class_dir / "attacker.zip")
    outside = class_dir.parent / "outside"
    outside.mkdir(exist_ok=True)
    honest(outside, "secret.zip", layout="zip")
    os.symlink(outside / "secret.zip", class_dir / "outsider.zip")
    os.symlink("nowhere.zip", class_dir / "dangling.zip")
    os.symlink("loop.zip", class_dir / "loop.zip")


EXPECT = {
    "refused": {
        "attacker.zip": "symbolic link",
        "outsider.zip": "symbolic link",
        "dangling.zip": "symbolic link",
        "loop.zip": "symbolic link",
    },
    "graded": {"victim.zip": "full"},
}
