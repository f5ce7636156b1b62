"""``grader nbgrader build|check|import``: the pack as an nbgrader course.

See :mod:`grader.nbgrader_course` and the README's "Grading with nbgrader".
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("nbgrader", help="the pack as an nbgrader course (instructors)")
    nb = p.add_subparsers(dest="nbgrader_command", required=True)
    d = nb.add_parser("build", help="write nbgrader_config.py and source/ASSIGNMENT/*.ipynb")
    d.add_argument("course", help="the nbgrader course folder (created if missing)")
    d.add_argument("--assignment", default=None, help="assignment name (default: concurrency)")
    d.add_argument("--only", metavar="SLUGS", help="comma-separated exercises (default: all)")
    d.set_defaults(func=run_build)
    d = nb.add_parser("check", help="prove the course's notebooks match the catalogue and files")
    d.add_argument("course")
    d.add_argument("--assignment", default=None)
    d.set_defaults(func=run_check)
    d = nb.add_parser("import", help="students' .py modules -> submitted notebooks")
    d.add_argument("class_dir", help="one folder per student, with the modules (or exercises/)")
    d.add_argument("course")
    d.add_argument("assignment")
    d.set_defaults(func=run_import)


def _fail(message: str) -> int:
    print(f"grader: {message}", file=sys.stderr)
    return 2


def run_build(args: argparse.Namespace) -> int:
    from grader.nbgrader_course import ASSIGNMENT, CourseError, build

    only = args.only.split(",") if args.only else None
    try:
        built = build(Path(args.course), assignment=args.assignment or ASSIGNMENT, only=only)
    except (CourseError, KeyError) as exc:
        return _fail(exc.args[0])
    where = built.course / "source" / built.assignment
    print(f"{len(built.notebooks)} notebooks written to {where}")
    if not built.config_written:
        print(
            f"{built.course / 'nbgrader_config.py'} is not ours and was left alone: "
            "see `grader.nbgrader_course.config_text()` for the settings it needs."
        )
    print(f"Next: cd {built.course} && nbgrader generate_assignment {built.assignment} --force")
    return 0


def run_check(args: argparse.Namespace) -> int:
    from grader.nbgrader_course import ASSIGNMENT, check

    problems = check(Path(args.course), assignment=args.assignment or ASSIGNMENT)
    for problem in problems:
        print(f"out of date: {problem}")
    if problems:
        print("Rebuild with `grader nbgrader build`.")
        return 1
    print("The course's notebooks match the catalogue, exercises/, solutions/ and tests/.")
    return 0


def run_import(args: argparse.Namespace) -> int:
    from grader.nbgrader_course import CourseError, import_class

    try:
        imported = import_class(Path(args.class_dir), Path(args.course), args.assignment)
    except CourseError as exc:
        return _fail(exc.args[0])
    for student, notebooks in imported.items():
        print(f"{student}: {len(notebooks)} notebooks")
    print(f"Next: cd {args.course} && nbgrader autograde {args.assignment} --create")
    return 0
