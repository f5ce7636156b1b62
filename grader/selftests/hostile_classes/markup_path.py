"""Rich markup in what ``grader batch`` prints: a closing tag with nothing open (rich
raises on it) in zip member paths that end up in reasons, styles and a link in entry
names whose ids collide (so the names appear in the reasons), and, from the command
line, an output folder whose path holds ``[/]``. All must print literally, exit 0."""

from __future__ import annotations

from pathlib import Path

from grader.selftests.hostile_classes._kit import MODULE, SOLUTION, honest, patched, zip_bytes


def build(class_dir: Path) -> None:
    honest(class_dir, "[bold]honest")
    honest(class_dir, "red_eve")
    honest(class_dir, "[red]eve")
    honest(class_dir, "[link=https:example.invalid]mal")
    honest(class_dir, "link_https_example.invalid_mal")
    (class_dir / "[red]notes.txt").write_text("hi\n")
    (class_dir / "traversal.zip").write_bytes(
        zip_bytes([("../[/]/[bold]evil.py", b""), (MODULE, SOLUTION)])
    )
    good = zip_bytes([(f"exercises/[/]/{MODULE}", SOLUTION)])
    (class_dir / "[/]crc.zip".replace("/", "_")).write_bytes(patched(good, b"ANSWERS", b"ANSWERZ"))


EXPECT = {
    "refused": {
        "red_eve": 'collides with "[red]eve"',
        "[red]eve": 'collides with "red_eve"',
        "[link=https:example.invalid]mal": 'collides with "link_https_example.invalid_mal"',
        "link_https_example.invalid_mal": 'collides with "[link=https:example.invalid]mal"',
        "[red]notes.txt": "not a folder or a .zip",
        "traversal.zip": "unsafe path in the submission: '../[/]/[bold]evil.py'",
        "[_]crc.zip": f"cannot read 'exercises/[/]/{MODULE}'",
    },
    "graded": {"[bold]honest": "full"},
    "absent": ["red_eve", "link_https_example.invalid_mal"],
    "cli": True,
}
