"""The student's commands: ``grader check|race|status|hint|watch|reset``.
Each is a tox env in the student pack:
``tox`` (check, every exercise), ``tox -e check -- SLUG``, ``tox -e race``,
``tox -e list``, ``tox -e watch``, ``tox -e reset -- SLUG``, ``tox -e hint -- SLUG``.

Runs of the visible tests are remembered in ``.grader/state.json`` (with a hash of
each exercise file), so ``grader status`` can tell solved, failing, edited since the
last run, and not started (still the original stub) without running anything.
``grader hint`` reveals one more hint per call, remembered in ``.grader/hints.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
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
        p.add_argument("--tb", metavar="STYLE", help="pytest's traceback style (long, short, ...)")
        p.add_argument(
            "--only-started",
            action="store_true",
            help="succeed when every exercise you have started passes (CI: untouched stubs "
            "are 'not started')",
        )
        p.add_argument(
            "--pytest", default="", metavar="ARGS", help='more pytest options, e.g. "-x --tb=long"'
        )
        if race:
            p.add_argument("--race-seed", type=int, help="replay a run: the seed it printed")
        p.set_defaults(func=run_check, race=race)
    p = sub.add_parser("status", help="the status of every exercise (from your last runs)")
    p.add_argument("--root", default=".")
    p.set_defaults(func=run_status)
    p = sub.add_parser("hint", help="the next hint of an exercise (--all: every hint)")
    p.add_argument("slug")
    p.add_argument("--all", action="store_true", help="show every hint at once")
    p.add_argument("--root", default=".", help="where .grader/hints.json remembers them")
    p.set_defaults(func=run_hint)
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


def race_banner(exercise: Exercise | None, seed: int) -> str:
    """What ``grader race`` prints first, so the mode is visibly on (and replayable)."""
    slug = f"{exercise.slug} " if exercise else ""
    return (
        "RACE DETECTOR ON: races are amplified. Every visible test runs with thread "
        "switches forced inside your code, so a race that is rare in a normal run "
        f"shows up often.\nSeed {seed}; to replay this run: "
        f"tox -e race -- {slug}--race-seed {seed}\n"
    )


def untouched(root: Path, cat: Catalogue) -> set[str]:
    """Slugs of the exercises whose file is still the original stub (not started)."""
    from grader.progress import not_started

    return {ex.slug for ex in not_started(list(cat), root / "exercises")}


def run_check(args: argparse.Namespace) -> int:
    from grader import student_ci

    cat = catalogue_mod.load()
    root = Path(args.root).resolve()
    exercise = _exercise(cat, args.slug) if args.slug else None
    if args.slug and exercise is None:
        return 2
    extra = shlex.split(args.pytest)
    if args.tb:
        extra.append(f"--tb={args.tb}")
    if args.race:
        seed = args.race_seed
        if seed is None:
            seed = random.SystemRandom().randrange(2**32)
        extra += ["--race-seed", str(seed)]
        print(race_banner(exercise, seed), flush=True)
    rc, report = run_visible(root, exercise, race=args.race, extra=extra)
    if report is None or report.get("exitstatus") not in (0, 1):
        print("grader: the tests did not run to the end (see the output above)", file=sys.stderr)
        return rc or 1
    runs = student_ci.by_exercise(report, cat, not_started=untouched(root, cat))
    if exercise is not None:
        runs = [r for r in runs if r.exercise == exercise]
    if os.environ.get("GITHUB_ACTIONS") == "true":
        for line in student_ci.annotations(runs):
            print(line)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as fh:
            fh.write(student_ci.summary_markdown(runs, only_started=args.only_started) + "\n")
    if args.json:
        student_ci.write_json(student_ci.results_json(runs), Path(args.json))
    if args.junit:
        student_ci.write_junit(runs, Path(args.junit))
    if args.only_started:
        verdict, ok = student_ci.started_verdict(runs)
        print(verdict)
        return 0 if ok else 1
    return rc


# --- remembered state -------------------------------------------------------------------------


def file_hash(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _state_path(root: Path) -> Path:
    return root / STATE_DIR / "state.json"


def _read_json_object(path: Path) -> dict[str, Any]:
    """A JSON object from ``path``; anything else (missing, malformed, a list) is empty."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


_ENTRY_KEYS = {"hash": str, "passed": int, "total": int}


def load_state(root: Path) -> dict[str, Any]:
    """The remembered runs, keeping only well-formed entries (the file is the student's)."""
    return {
        slug: entry
        for slug, entry in _read_json_object(_state_path(root)).items()
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


def run_status(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    root = Path(args.root).resolve()
    cat = catalogue_mod.load()
    state = load_state(root)
    rows = [(ex, *exercise_status(root, ex, state)) for ex in cat]
    solved = sum(status == "solved" for _, status, _ in rows)
    waiting = sum(status == "not started" for _, status, _ in rows)
    title = f"{solved} of {len(cat)} exercises solved · {waiting} not started"
    table = Table(title=title, title_justify="left")
    for col in ("#", "exercise", "status", "visible tests"):
        table.add_column(col)
    styles = {"solved": "green", "not started": "dim", "not run yet": "dim"}
    for ex, status, count in rows:
        style = styles.get(status, "yellow" if status.startswith("edited") else "red")
        mark = "✓ " if status == "solved" else ""
        table.add_row(f"{ex.order:02d}", ex.slug, Text(mark + status, style=style), count)
    console = Console(highlight=False)
    console.print(table)
    console.print(
        Text("Statuses come from your last runs; plain `tox` runs everything.", style="dim")
    )
    nxt = next((ex for ex, status, _ in rows if status != "solved"), None)
    if nxt is not None:
        console.print(Text(f"Next: {nxt.stem}: {nxt.title}", style="bold"))
        first = (state.get(nxt.slug) or {}).get("first_failure")
        if first:
            from grader.reports.sanitize import one_line

            console.print(Text(f"  last run: ✗ {one_line(first)}", style="red"))
        console.print(f"  Edit exercises/{nxt.module_file}, then run: tox -e check -- {nxt.slug}")
        console.print(f"  Stuck? A hint at a time: tox -e hint -- {nxt.slug}")
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
    state = load_state(root)
    if state.pop(ex.slug, None) is not None:
        _state_path(root).write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
    print(f"exercises/{ex.module_file} is the original stub again.")
    return 0


# --- hints ------------------------------------------------------------------------------------


def run_hint(args: argparse.Namespace) -> int:
    """One more hint each call (remembered in ``.grader/hints.json``); ``--all``: every one."""
    from rich.console import Console
    from rich.text import Text

    ex = _exercise(catalogue_mod.load(), args.slug)
    if ex is None:
        return 2
    console = Console(highlight=False)
    if not ex.hints:
        console.print(f"{ex.stem} has no hints.")
        return 0
    path = Path(args.root).resolve() / STATE_DIR / "hints.json"
    seen = _read_json_object(path)
    before = seen.get(ex.slug)
    before = min(before, len(ex.hints)) if isinstance(before, int) and before > 0 else 0
    shown = len(ex.hints) if args.all else min(before + 1, len(ex.hints))
    seen[ex.slug] = max(before, shown)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(seen, indent=2) + "\n", encoding="utf-8")
    console.print(Text(f"Hints for {ex.stem}: {ex.title}", style="bold"))
    for number, hint in enumerate(ex.hints[:shown], 1):
        new = number > before or args.all
        console.print(Text(f"  {number}. {hint}", style="" if new else "dim"))
    left = len(ex.hints) - shown
    if left:
        more = "1 more hint" if left == 1 else f"{left} more hints"
        console.print(f"{more}. The next one:  tox -e hint -- {ex.slug}", soft_wrap=True)
        console.print(
            f"{' ' * len(more)}  All of them:   tox -e hint -- {ex.slug} --all", soft_wrap=True
        )
    else:
        console.print(f"That is every hint for {ex.slug}.")
    return 0
