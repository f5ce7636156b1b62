"""A submission's contents as bytes: read from its entry, hashed, written back in a worker.

The exercise modules travel by value (name → bytes), so a worker needs no shared file
system; :func:`content_hash` is what a regrade is decided on.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from grader.batch.archives import read_zip
from grader.batch.folders import read_folder
from grader.batch.inputs import Submission
from grader.batch.reading import DEFAULT_BOUNDS, InputBounds, SubmissionError, check_rel
from grader.catalogue import Catalogue


def read_submission(
    sub: Submission, cat: Catalogue, bounds: InputBounds = DEFAULT_BOUNDS
) -> dict[str, bytes]:
    """The exercise modules of one submission, by file name; :class:`SubmissionError` if not."""
    if sub.refused:
        raise SubmissionError(sub.refused)
    if sub.kind == "zip":
        return read_zip(sub.source, cat, bounds)
    return read_folder(sub.source, cat, bounds)


def content_hash(files: dict[str, bytes]) -> str:
    """The hash of the modules handed in (names and contents): same hash, same grade."""
    h = hashlib.sha256()
    for name in sorted(files):
        h.update(name.encode("utf-8", "surrogateescape") + b"\0")
        h.update(hashlib.sha256(files[name]).digest())
    return h.hexdigest()


def materialize(files: dict[str, bytes], root: Path) -> None:
    """Write a submission's files under ``root`` (paths were checked when read)."""
    root = root.resolve()
    for name, data in files.items():
        target = (root / check_rel(name)).resolve()
        if not target.is_relative_to(root):
            raise SubmissionError(f"unsafe path in the submission: {name!r}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
