"""``grader release OUT``: build the student pack (see :mod:`grader.release.student_pack`)."""

from __future__ import annotations

import argparse
import sys
import time


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("release", help="build the student pack (no solutions, no hidden tests)")
    p.add_argument("out", help="the folder to create")
    p.add_argument("--force", action="store_true", help="replace OUT if it is not empty")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from grader.release.student_pack import ReleaseError, build

    start = time.perf_counter()
    try:
        release = build(args.out, force=args.force)
    except ReleaseError as exc:
        print(f"grader: {exc}", file=sys.stderr)
        return 2
    left_out = ", ".join(f"`grader {n}`" for n in release.instructor_commands)
    print(
        f"Student pack written to {release.out}: {len(release.files)} files "
        f"in {time.perf_counter() - start:.2f}s.\n"
        f"Instructor-only commands (stubbed there): {left_out or 'none'}.\n"
        f"Students start with: cd {args.out} && tox"
    )
    return 0
