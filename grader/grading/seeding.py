"""The default race seed of a submission: derived from what is graded, so a regrade replays it.

The seed fixes the race amplifier's pauses and the hidden tests' random inputs.
Derived from the bytes of the graded exercise modules (in catalogue order,
each under its file name) and the set of exercises graded, never from a path
or a time, it gives the same folder the same seed and score on every run,
while any change to a graded module gives another seed. ``grader grade`` and
``grader batch`` use it; ``--seed`` overrides it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from pathlib import Path

from grader.catalogue import Exercise
from grader.sandbox.stage import read_module

_VERSION = b"grader-seed-1\0"  # change it if the derivation changes


def content_seed(modules: Mapping[str, bytes | None], exercises: Iterable[Exercise]) -> int:
    """A 32-bit seed from the graded modules' bytes (``None``: not gradable) and the exercises."""
    h = hashlib.sha256(_VERSION)
    for ex in sorted(exercises, key=lambda e: e.module_file):
        data = modules.get(ex.module_file)
        h.update(ex.module_file.encode() + b"\0")
        h.update(b"-" if data is None else b"+" + hashlib.sha256(data).digest())
    return int.from_bytes(h.digest()[:4], "big")


def folder_seed(folder: Path, exercises: Iterable[Exercise]) -> int:
    """The default seed of grading ``exercises`` of the submission in ``folder``."""
    exercises = list(exercises)
    return content_seed({e.module_file: read_module(folder, e.module_file) for e in exercises},
                        exercises)  # fmt: skip
