"""What the student's tools remember between runs, in the pack's ``.grader/`` folder.

``state.json`` keeps each exercise's last visible-test run with a hash of its file,
so ``grader status`` can tell solved, failing, edited since the last run and not
started (the file is still the original stub, kept in ``grader/stubs/`` of the
student pack) without running anything. The files are the student's: anything
malformed in them is ignored, never an error.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

from grader import catalogue as catalogue_mod
from grader import layout
from grader.catalogue import Catalogue, Exercise

STUBS_DIR = layout.PRISTINE_STUBS  # pristine stubs (the student pack only)
_ENTRY_KEYS = {"hash": str, "passed": int, "total": int}


def state_dir(root: Path) -> Path:
    """The pack's ``.grader/`` folder (state, hints, backups, the last run's report)."""
    return layout.Pack(root).state


def file_hash(path: Path) -> str | None:
    """SHA-256 of a file's bytes; None when it cannot be read."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def read_json_object(path: Path) -> dict[str, Any]:
    """A JSON object from ``path``; anything else (missing, malformed, a list) is empty."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` as indented JSON, making the folder if needed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def _state_path(root: Path) -> Path:
    return state_dir(root) / "state.json"


def load_state(root: Path) -> dict[str, Any]:
    """The remembered runs, keeping only well-formed entries (the file is the student's)."""
    return {
        slug: entry
        for slug, entry in read_json_object(_state_path(root)).items()
        if isinstance(entry, dict)
        and all(isinstance(entry.get(k), t) for k, t in _ENTRY_KEYS.items())
    }


def remember(root: Path, report: dict[str, Any]) -> None:
    """Merge a run's per-exercise outcome into ``.grader/state.json``."""
    cat = catalogue_mod.load()
    state = load_state(root)
    tests: dict[str, list[dict[str, Any]]] = {}
    for t in report.get("tests", []):
        tests.setdefault(t["exercise"], []).append(t)
    for slug, ts in tests.items():
        failing = [t for t in ts if t["outcome"] == "failed"]
        state[slug] = {
            "hash": file_hash(layout.Pack(root).exercises / cat.get(slug).module_file),
            "passed": len(ts) - len(failing),
            "total": len(ts),
            "first_failure": failing[0]["message"].splitlines()[0] if failing else None,
            "when": time.strftime("%Y-%m-%d %H:%M"),
        }
    write_json(_state_path(root), state)


def forget(root: Path, slug: str) -> None:
    """Drop an exercise's remembered run (after a reset), if there is one."""
    state = load_state(root)
    if state.pop(slug, None) is not None:
        write_json(_state_path(root), state)


def is_pristine(path: Path, ex: Exercise) -> bool:
    """Whether ``path`` holds exactly the original stub of ``ex`` (False without stubs)."""
    stub = file_hash(STUBS_DIR / ex.module_file)
    return stub is not None and file_hash(path) == stub


def exercise_status(root: Path, ex: Exercise, state: dict[str, Any]) -> tuple[str, str]:
    """(status, visible tests) of one exercise, from the last run and the file on disk."""
    current = file_hash(layout.Pack(root).exercises / ex.module_file)
    if current is None:
        return "missing", "-"
    if current == file_hash(STUBS_DIR / ex.module_file):
        return "not started", "-"  # whatever ran before: the file is the original stub again
    entry = state.get(ex.slug)
    if entry is None:
        return "not run yet", "-"
    count = f"{entry['passed']}/{entry['total']}"
    if entry["hash"] != current:
        return "edited since last run", count
    if entry["passed"] == entry["total"] and entry["total"]:
        return "solved", count
    return f"{entry['total'] - entry['passed']} failing", count


def not_started(exercises: list[Exercise], impl: Path) -> list[Exercise]:
    """The exercises in ``impl`` whose file is still the original stub (outside the
    student pack there are no stubs to compare with, and this is empty)."""
    return [ex for ex in exercises if is_pristine(impl / ex.module_file, ex)]


def untouched(root: Path, cat: Catalogue) -> set[str]:
    """Slugs of the pack's exercises whose file is still the original stub."""
    return {ex.slug for ex in not_started(list(cat), layout.Pack(root).exercises)}
