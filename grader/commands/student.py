"""The student's commands: ``grader check|race|status|watch|reset`` (``grader hint`` is in
:mod:`grader.commands.catalogue`). Each is a tox env in the student pack:
``tox`` (check, every exercise), ``tox -e check -- SLUG``, ``tox -e race``,
``tox -e list``, ``tox -e watch``, ``tox -e reset -- SLUG``, ``tox -e hint -- SLUG``.

Runs of the visible tests are remembered in ``.grader/state.json`` (with a hash of
each exercise file), so ``grader status`` can tell solved, failing, edited since the
last run, and not started (still the original stub) without running anything.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from grader import catalogue as catalogue_mod
from grader.catalogue import Catalogue, Exercise

STATE_DIR = ".grader"
STUBS_DIR = Path(__file__).resolve().parent.parent / "stubs"  # pristine stubs (release only)


def register(sub: argparse._SubParsersAction) -> None:
    for name, race, help_ in (
        ("check", False, "run the visible tests (all, or one exercise) and show your progress"),
        ("race", True, "the visible tests with races amplified: the local race detector"),
    ):
        p = sub.add_parser(name, help=help_)
        p.add_argument("slug", nargs="?", help="one exercise (default: all)")
        p.add_argument("--root", default=".", help="the student pack's folder")
        p.add_argument("--json", metavar="FILE", help="also write results.json (visible tests)")
        p.add_argument("--junit", metavar="FILE", help="also write JUnit XML")
        p.add_argument(
            "--pytest", default="", metavar="ARGS", help='more pytest options, e.g. "-x --tb=long"'
        )
        p.set_defaults(func=run_check, race=race)
    p = sub.add_parser("status", help="the status of every exercise (from your last runs)")
    p.add_argument("--root", default=".")
    p.set_defaults(func=run_status)
    p = sub.add_parser("watch", help="re-run an exercise's tests every time you save it")
    p.add_argument("slug", nargs="?", help="only this exercise (default: whichever you save)")
    p.add_argument("--root", default=".")
    p.add_argument("--interval", type=float, default=1.0, help="seconds between polls")
    p.add_argument("--max-runs", type=int, default=0, help="stop after N runs (0: never)")
    p.set_defaults(func=run_watch)
    p = sub.add_parser("reset", help="restore an exercise's original stub (keeps a backup)")
    p.add_argument("slug")
    p.add_argument("--root", default=".")
    p.set_defaults(func=run_reset)


# --- running the visible tests ----------------------------------------------------------------


def _plugin_autoloaded() -> bool:
    if os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
        return False
    return any(ep.value == "grader.plugin" for ep in metadata.entry_points(group="pytest11"))


def _exercise(cat: Catalogue, slug: str) -> Exercise | None:
    try:
        return cat.get(slug)
    except KeyError as exc:
        print(f"grader: {exc.args[0]}", file=sys.stderr)
        return None


def run_visible(
    root: Path, exercise: Exercise | None, race: bool = False, extra: list[str] | None = None
) -> tuple[int, dict[str, Any] | None]:
    """Run the visible tests in a child pytest; return its exit code and the student report."""
    report_path = root / STATE_DIR / "last-run.json"
    report_path.unlink(missing_ok=True)
    target = f"tests/{exercise.test_file}" if exercise else "tests"
    args = [sys.executable, "-m", "pytest", target, "--progress", "-q", "-p", "no:cacheprovider"]
    if not _plugin_autoloaded():
        args += ["-p", "grader.plugin"]
    args += ["-p", "grader.student_plugin", "--student-report", str(report_path)]
    if race:
        args.append("--race")
    args += extra or []
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


def run_check(args: argparse.Namespace) -> int:
    from grader import student_ci

    cat = catalogue_mod.load()
    root = Path(args.root).resolve()
    exercise = _exercise(cat, args.slug) if args.slug else None
    if args.slug and exercise is None:
        return 2
    rc, report = run_visible(root, exercise, race=args.race, extra=shlex.split(args.pytest))
    if report is None or report.get("exitstatus") not in (0, 1):
        print("grader: the tests did not run to the end (see the output above)", file=sys.stderr)
        return rc or 1
    runs = student_ci.by_exercise(report, cat)
    if exercise is not None:
        runs = [r for r in runs if r.exercise == exercise]
    if os.environ.get("GITHUB_ACTIONS") == "true":
        for line in student_ci.annotations(runs):
            print(line)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as fh:
            fh.write(student_ci.summary_markdown(runs) + "\n")
    if args.json:
        student_ci.write_json(student_ci.results_json(runs), Path(args.json))
    if args.junit:
        student_ci.write_junit(runs, Path(args.junit))
    return rc


# --- remembered state -------------------------------------------------------------------------


def file_hash(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _state_path(root: Path) -> Path:
    return root / STATE_DIR / "state.json"


def load_state(root: Path) -> dict[str, Any]:
    try:
        return json.loads(_state_path(root).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


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
            "hash": file_hash(root / "exercises" / cat.get(slug).module_file),
            "passed": len(ts) - len(failing),
            "total": len(ts),
            "first_failure": failing[0]["message"].splitlines()[0] if failing else None,
            "when": time.strftime("%Y-%m-%d %H:%M"),
        }
    path = _state_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")


def exercise_status(root: Path, ex: Exercise, state: dict[str, Any]) -> tuple[str, str]:
    """(status, visible tests) of one exercise, from the last run and the file on disk."""
    current = file_hash(root / "exercises" / ex.module_file)
    if current is None:
        return "missing", "-"
    pristine = file_hash(STUBS_DIR / ex.module_file)
    entry = state.get(ex.slug)
    if entry is None:
        return ("not started" if current == pristine else "not run yet"), "-"
    count = f"{entry['passed']}/{entry['total']}"
    if entry["hash"] != current:
        return "edited since last run", count
    if entry["passed"] == entry["total"] and entry["total"]:
        return "solved", count
    return f"{entry['total'] - entry['passed']} failing", count


def run_status(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    root = Path(args.root).resolve()
    cat = catalogue_mod.load()
    state = load_state(root)
    rows = [(ex, *exercise_status(root, ex, state)) for ex in cat]
    solved = sum(status == "solved" for _, status, _ in rows)
    table = Table(title=f"{solved} of {len(cat)} exercises solved", title_justify="left")
    for col in ("#", "exercise", "status", "visible tests"):
        table.add_column(col)
    styles = {"solved": "green", "not started": "dim", "not run yet": "dim"}
    for ex, status, count in rows:
        style = styles.get(status, "yellow" if status.startswith("edited") else "red")
        mark = "✓ " if status == "solved" else ""
        table.add_row(f"{ex.order:02d}", ex.slug, Text(mark + status, style=style), count)
    console = Console(highlight=False)
    console.print(table)
    nxt = next((ex for ex, status, _ in rows if status != "solved"), None)
    if nxt is not None:
        console.print(Text(f"Next: {nxt.stem}: {nxt.title}", style="bold"))
        first = (state.get(nxt.slug) or {}).get("first_failure")
        if first:
            from grader.reports.sanitize import one_line

            console.print(Text(f"  last run: ✗ {one_line(first)}", style="red"))
        console.print(
            Text(
                f"  Edit exercises/{nxt.module_file}, then: tox -e check -- {nxt.slug}  "
                f"(hint: tox -e hint -- {nxt.slug})"
            )
        )
    console.print(
        Text("Statuses come from your last runs; plain `tox` runs everything.", style="dim")
    )
    return 0


# --- watch and reset --------------------------------------------------------------------------


def _snapshot(paths: list[Path]) -> dict[Path, tuple[int, int]]:
    out = {}
    for p in paths:
        try:
            st = p.stat()
            out[p] = (st.st_mtime_ns, st.st_size)
        except OSError:
            out[p] = (0, 0)
    return out


def run_watch(args: argparse.Namespace) -> int:
    cat = catalogue_mod.load()
    root = Path(args.root).resolve()
    chosen = _exercise(cat, args.slug) if args.slug else None
    if args.slug and chosen is None:
        return 2
    watched = [chosen] if chosen else list(cat)
    by_path = {root / "exercises" / ex.module_file: ex for ex in watched}
    where = f"exercises/{chosen.module_file}" if chosen else "exercises/"
    by_hand = f"tox -e check -- {chosen.slug}" if chosen else "tox -e check -- SLUG"
    print(
        f"Watching {where} (checking for saves every {args.interval:g} s); Ctrl-C stops.\n"
        f"If saving does not start a run (some editors, network or container folders), "
        f"run the tests by hand: {by_hand}",
        flush=True,
    )
    before = _snapshot(list(by_path))
    runs = 0
    try:
        while not args.max_runs or runs < args.max_runs:
            time.sleep(args.interval)
            now = _snapshot(list(by_path))
            changed = [p for p in by_path if now[p] != before[p]]
            before = now
            for path in changed:
                ex = by_path[path]
                print(f"\n{path.name} changed: running its visible tests", flush=True)
                run_visible(root, ex)
                runs += 1
                print(f"\nWatching {where} again (or run by hand: {by_hand})", flush=True)
    except KeyboardInterrupt:
        print("\nStopped watching.")
    return 0


def run_reset(args: argparse.Namespace) -> int:
    ex = _exercise(catalogue_mod.load(), args.slug)
    if ex is None:
        return 2
    root = Path(args.root).resolve()
    pristine = STUBS_DIR / ex.module_file
    if not pristine.is_file():
        print(
            "grader: no original stubs here: `reset` works in the student pack "
            "(made by `grader release`)",
            file=sys.stderr,
        )
        return 2
    target = root / "exercises" / ex.module_file
    if file_hash(target) == file_hash(pristine):
        print(f"exercises/{ex.module_file} is already the original stub; nothing to do.")
        return 0
    if target.exists():
        backups = root / STATE_DIR / "backups"
        backups.mkdir(parents=True, exist_ok=True)
        backup = backups / f"{ex.stem}.{time.strftime('%Y%m%d-%H%M%S')}.py"
        n = 1
        while backup.exists():
            n += 1
            backup = backups / f"{ex.stem}.{time.strftime('%Y%m%d-%H%M%S')}-{n}.py"
        shutil.copy2(target, backup)
        print(f"Your version is saved as {backup.relative_to(root).as_posix()}")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(pristine, target)
    print(f"exercises/{ex.module_file} is the original stub again.")
    return 0
