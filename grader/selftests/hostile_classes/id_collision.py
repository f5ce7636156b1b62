"""Names that make the same id: a leading space, a zero-width space, an accent, case, and
a folder next to a zip. Every one of them is refused (none is graded under the shared id,
so the order of the directory listing decides nothing); an honest student is unaffected."""

from __future__ import annotations

from pathlib import Path

from grader.selftests.hostile_classes._kit import MODULE, STUB, honest


def build(class_dir: Path) -> None:
    honest(class_dir)
    honest(class_dir, "alice")
    (class_dir / " alice").mkdir()  # the attacker: a stub, under the victim's id
    (class_dir / " alice" / MODULE).write_bytes(STUB)
    honest(class_dir, "dave")
    honest(class_dir, "dave\u200b")
    honest(class_dir, "eve")
    honest(class_dir, "éve")
    honest(class_dir, "Bob")
    honest(class_dir, "bob")
    honest(class_dir, "carol")
    honest(class_dir, "carol.zip", layout="zip")


EXPECT = {
    "refused": {
        "alice": 'collides with " alice"',
        " alice": 'collides with "alice"',
        "dave": 'collides with "dave\\u200b"',
        "dave\u200b": 'collides with "dave"',
        "eve": 'collides with "éve"',
        "éve": 'collides with "eve"',
        "Bob": 'collides with "bob"',
        "bob": 'collides with "Bob"',
        "carol": 'collides with "carol.zip"',
        "carol.zip": 'collides with "carol"',
    },
    "graded": {"honest": "full"},
    "absent": ["alice", "dave", "eve", "bob", "Bob", "carol"],
}
