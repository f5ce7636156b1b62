"""Hostile: look for files named like the hidden tests or the solutions, and print them."""

import os
import sys
from pathlib import Path

import grader

NAMES = {"test_01_wait_for_all.py", "01_wait_for_all.py"}


def candidates():
    here = Path(__file__).resolve()
    roots = [Path(grader.__file__).parent, Path(grader.__file__).parents[1], Path("/work"),
             Path("/root"), Path("/tmp"), Path("/home"), Path("/srv"), Path("/opt"),
             Path(sys.prefix)]  # fmt: skip
    for root in roots:
        for folder, dirs, files in os.walk(root):
            dirs[:] = [d for d in dirs if d not in ("proc", "sys", "node_modules")][:50]
            for name in files:
                path = Path(folder, name)
                if name in NAMES and path != here:
                    yield path


def fetch_all(urls, fetch):
    stolen = []
    for path in candidates():
        try:
            text = path.read_text()
        except OSError:
            continue
        print(text)
        print(text, file=sys.stderr)
        stolen.append(f"{text[:120]!r} ({path})")  # the loot first: feedback is cut short
    raise RuntimeError("stolen: " + " || ".join(stolen))
