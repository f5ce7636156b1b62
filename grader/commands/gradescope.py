"""``grader gradescope build|run``: Gradescope's autograder zip and what it runs there.

See :mod:`grader.release.gradescope` (the zip), :mod:`grader.release.gradescope_run` (the
run inside Gradescope) and :mod:`grader.release.gradescope_settings` (what a build records).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

VISIBILITY_HELP = (
    "who sees each category's tests on Gradescope, e.g. timing=after_published,stress=hidden "
    "(settings: visible, hidden, after_due_date, after_published; a bare setting is the "
    "default for every category; default: visible)"
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("gradescope", help="Gradescope's autograder zip, and what it runs")
    gs = p.add_subparsers(dest="gradescope_command", required=True)
    b = gs.add_parser("build", help="write the autograder zip to upload to Gradescope")
    b.add_argument("out", help="the zip to write, e.g. autograder.zip")
    b.add_argument("--visibility", action="append", default=[], metavar="SPEC",
                   help=VISIBILITY_HELP)  # fmt: skip
    b.add_argument("--only", metavar="SLUGS", help="comma-separated exercises to grade")
    b.set_defaults(func=run_build)
    r = gs.add_parser(
        "run", help="grade ROOT/submission into ROOT/results/results.json (run_autograder)"
    )
    r.add_argument(
        "--root", default="/autograder", help="Gradescope's folder (default: %(default)s)"
    )
    r.add_argument("--check", action="store_true", help="only read the settings and report")
    r.set_defaults(func=run_autograde)


def run_build(args: argparse.Namespace) -> int:
    from grader import catalogue as catalogue_mod
    from grader.release.gradescope import BuildError, build
    from grader.release.gradescope_settings import Settings
    from grader.reports.gradescope import Visibility

    try:
        visibility = Visibility.parse(args.visibility)
        only = tuple(s for s in (args.only or "").split(",") if s)
        cat = catalogue_mod.load()
        for slug in only:
            cat.get(slug)
        files = build(Path(args.out), Settings(visibility, only))
    except KeyError as exc:
        print(f"grader: {exc.args[0]}", file=sys.stderr)
        return 2
    except (BuildError, ValueError, OSError) as exc:
        print(f"grader: {exc}", file=sys.stderr)
        return 2
    hidden = sum(1 for name in files if name.startswith("grader/hidden/test_"))
    shown = ", ".join(f"{k}={v}" for k, v in visibility.settings().items())
    print(
        f"Gradescope autograder written to {args.out}: {len(files)} files, {hidden} hidden "
        f"test modules; visibility {shown}.\n"
        "Upload it in the assignment's autograder settings, on a machine with at least 2 CPUs."
    )
    return 0


def run_autograde(args: argparse.Namespace) -> int:
    from grader.release.gradescope_run import autograde

    return autograde(Path(args.root), check=args.check)
