"""Zips whose member names lie or attack: invalid UTF-8 under the UTF-8 flag, a NUL that
turns a second member into the exercise module, ``..`` with backslashes, and terminal
escapes in names that do not matter (the honest zip holding them is graded)."""

from __future__ import annotations

from pathlib import Path

from grader.selftests.hostile_classes._kit import MODULE, SOLUTION, STUB, honest, patched, zip_bytes


def build(class_dir: Path) -> None:
    honest(class_dir)
    # zipfile sets the UTF-8 flag for a non-ASCII name; then the name's bytes are made invalid
    data = zip_bytes([(f"exercises/{MODULE}", SOLUTION), ("exercises/é.py", b"x = 1\n")])
    (class_dir / "bad_utf8.zip").write_bytes(patched(data, "é".encode(), b"\xff\xfe", count=2))
    # "16_concepts.pyXevil" becomes "16_concepts.py\0evil": zipfile cuts names at the NUL
    evil = f"exercises/{MODULE}Xevil"
    data = zip_bytes([(f"exercises/{MODULE}", SOLUTION), (evil, STUB)])
    (class_dir / "nul_name.zip").write_bytes(patched(data, b"Xevil", b"\0evil", count=2))
    (class_dir / "backslash_dots.zip").write_bytes(
        zip_bytes([("..\\..\\evil.py", b"print('out')\n"), (MODULE, SOLUTION)])
    )
    (class_dir / "escapes_in_names.zip").write_bytes(
        zip_bytes(
            [
                (f"x/{MODULE}", SOLUTION),
                ("x/\x1b[2J\x1b]0;pwned\x07.py", b""),
                ("x/[bold]x[/].txt", b""),
                ("x/\u202etxt.py", b""),
            ]
        )
    )


EXPECT = {
    "refused": {
        "bad_utf8.zip": "not valid UTF-8",
        "nul_name.zip": "twice",
        "backslash_dots.zip": "unsafe path",
    },
    "graded": {"honest": "full", "escapes_in_names.zip": "full"},
}
