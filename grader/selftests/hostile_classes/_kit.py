"""Helpers for the hostile class cases: honest students and hand-made zips."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from grader import catalogue as catalogue_mod
from grader.dev.check import ROOT

SLUG = "concepts"
MODULE = catalogue_mod.load().get(SLUG).module_file
SOLUTION = (ROOT / "solutions" / MODULE).read_bytes()
STUB = (ROOT / "exercises" / MODULE).read_bytes()


def honest(class_dir: Path, name: str | bytes = "honest", *, layout: str = "folder") -> None:
    """A student who submits the reference solution (a folder, a repo or a zip)."""
    base = Path(class_dir).as_posix().encode()
    raw = name if isinstance(name, bytes) else name.encode()
    if layout == "zip":
        with open(base + b"/" + raw, "wb") as fh:
            fh.write(zip_bytes([(f"work/exercises/{MODULE}", SOLUTION)]))
        return
    folder = Path((base + b"/" + raw).decode("utf-8", "surrogateescape"))
    target = folder / "exercises" if layout == "repo" else folder
    target.mkdir(parents=True)
    (target / MODULE).write_bytes(SOLUTION)


def zip_bytes(members: list[tuple[str, bytes]], method: int = zipfile.ZIP_STORED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, data in members:
            zf.writestr(name, data)
    return buf.getvalue()


def patched(data: bytes, old: bytes, new: bytes, count: int | None = None) -> bytes:
    """``data`` with ``old`` replaced (same length, so every offset stays right)."""
    assert len(old) == len(new) and old in data
    if count is not None:
        assert data.count(old) == count, (old, data.count(old))
    return data.replace(old, new)
