"""Running the visible tests for the student (``grader check``, ``race`` and ``watch``).

The tests run in a child pytest with the student plugin (``--progress``, the
plain-words summary, and ``--student-report``, what it saw as JSON); each run's
outcome is remembered in ``.grader/state.json`` for ``grader status``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from grader.catalogue import Exercise
from grader.student.state import remember, state_dir

HARNESS_PLUGIN = "grader.harness.plugin"
STUDENT_PLUGIN = "grader.student.plugin"


def plugin_autoloaded() -> bool:
    """Whether pytest loads the harness plugin by itself (the package is installed)."""
    if os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
        return False
    return any(ep.value == HARNESS_PLUGIN for ep in metadata.entry_points(group="pytest11"))


def pytest_command(target: str, report_path: Path, race: bool = False) -> list[str]:
    """The child pytest's command line: the visible tests with the student plugin."""
    args = [sys.executable, "-m", "pytest", target, "-q", "-p", "no:cacheprovider"]
    if not plugin_autoloaded():
        args += ["-p", HARNESS_PLUGIN]
    args += ["-p", STUDENT_PLUGIN, "--progress", "--student-report", str(report_path)]
    if race:
        args.append("--race")
    return args


def run_visible(
    root: Path, exercise: Exercise | None, race: bool = False, extra: list[str] | None = None
) -> tuple[int, dict[str, Any] | None]:
    """Run the visible tests in a child pytest; return its exit code and the student report."""
    report_path = state_dir(root) / "last-run.json"
    report_path.unlink(missing_ok=True)
    target = f"tests/{exercise.test_file}" if exercise else "tests"
    args = pytest_command(target, report_path, race) + (extra or [])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(root), env.get("PYTHONPATH")) if p)
    rc = subprocess.call(args, cwd=root, env=env)
    try:
        report = json.loads(report_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        report = None
    if report is not None:
        remember(root, report)
    return rc, report


def race_banner(exercise: Exercise | None, seed: int) -> str:
    """What ``grader race`` prints first, so the mode is visibly on (and replayable)."""
    slug = f"{exercise.slug} " if exercise else ""
    return (
        "RACE DETECTOR ON: races are amplified. Every visible test runs with thread "
        "switches forced inside your code, so a race that is rare in a normal run "
        f"shows up often.\nSeed {seed}; to replay this run: "
        f"tox -e race -- {slug}--race-seed {seed}\n"
    )
