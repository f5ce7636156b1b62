"""The student's commands: ``grader check|race|status|hint|watch|reset``.
Each is a tox env in the student pack:
``tox`` (check, every exercise), ``tox -e check -- SLUG``, ``tox -e race``,
``tox -e list``, ``tox -e watch``, ``tox -e reset -- SLUG``, ``tox -e hint -- SLUG``.

Only the command line lives here (options in, exit code out); what each command
does is in :mod:`grader.student` (``check``, ``status``, ``hints``, ``watch``,
``reset``; what is remembered between runs in ``state``).
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from grader import catalogue as catalogue_mod
from grader.catalogue import Catalogue, Exercise


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


def _exercise(cat: Catalogue, slug: str) -> Exercise | None:
    try:
        return cat.get(slug)
    except KeyError as exc:
        print(f"grader: {exc.args[0]}", file=sys.stderr)
        return None


def run_check(args: argparse.Namespace) -> int:
    from grader.student.check import check

    cat = catalogue_mod.load()
    exercise = _exercise(cat, args.slug) if args.slug else None
    if args.slug and exercise is None:
        return 2
    extra = shlex.split(args.pytest)
    if args.tb:
        extra.append(f"--tb={args.tb}")
    return check(
        Path(args.root).resolve(),
        cat,
        exercise,
        extra,
        race_seed=getattr(args, "race_seed", None),
        race=args.race,
        json_path=Path(args.json) if args.json else None,
        junit_path=Path(args.junit) if args.junit else None,
        only_started=args.only_started,
    )


def run_status(args: argparse.Namespace) -> int:
    from grader.student.status import print_status

    print_status(Path(args.root).resolve(), catalogue_mod.load())
    return 0


def run_hint(args: argparse.Namespace) -> int:
    from grader.student.hints import print_hints

    ex = _exercise(catalogue_mod.load(), args.slug)
    if ex is None:
        return 2
    print_hints(Path(args.root).resolve(), ex, show_all=args.all)
    return 0


def run_watch(args: argparse.Namespace) -> int:
    from grader.student.watch import watch

    cat = catalogue_mod.load()
    chosen = _exercise(cat, args.slug) if args.slug else None
    if args.slug and chosen is None:
        return 2
    watch(Path(args.root).resolve(), list(cat), chosen, args.interval, args.max_runs)
    return 0


def run_reset(args: argparse.Namespace) -> int:
    from grader.student.reset import reset

    ex = _exercise(catalogue_mod.load(), args.slug)
    if ex is None:
        return 2
    return reset(Path(args.root).resolve(), ex)
