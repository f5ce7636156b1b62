"""``grader nbgrader build|check|import``: the pack as an nbgrader course.

See :mod:`grader.nbcourse.course` (build, check), :mod:`grader.nbcourse.notebooks` (the
notebooks), :mod:`grader.nbcourse.submissions` (import), :mod:`grader.nbcourse.guard` (what
the autograding kernel runs) and the README's
"Grading with nbgrader".
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
    d.add_argument(
        "--timestamp",
        metavar="WHEN",
        help="submission time written to timestamp.txt, ISO 8601 (default: now; UTC unless given)",
    )
    d.set_defaults(func=run_import)


def _fail(message: str) -> int:
    print(f"grader: {message}", file=sys.stderr)
    return 2


def run_build(args: argparse.Namespace) -> int:
    from grader.nbcourse.course import ASSIGNMENT, build
    from grader.nbcourse.notebooks import CourseError

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
            "see `grader.nbcourse.course.config_text()` for the settings it needs."
        )
    print(f"Next: cd {built.course} && nbgrader generate_assignment {built.assignment} --force")
    return 0


def run_check(args: argparse.Namespace) -> int:
    from grader.nbcourse.course import ASSIGNMENT, check, course_folder
    from grader.nbcourse.notebooks import CourseError

    try:
        course = course_folder(Path(args.course))
    except CourseError as exc:
        return _fail(exc.args[0])
    problems = check(course, assignment=args.assignment or ASSIGNMENT)
    for problem in problems:
        print(f"out of date: {problem}")
    if problems:
        print("Rebuild with `grader nbgrader build`.")
        return 1
    print("The course's notebooks match the catalogue, exercises/, solutions/ and tests/.")
    return 0


def run_import(args: argparse.Namespace) -> int:
    from grader.nbcourse.notebooks import CourseError
    from grader.nbcourse.submissions import import_class, parse_timestamp, shown

    try:
        when = parse_timestamp(args.timestamp) if args.timestamp else None
        imported = import_class(Path(args.class_dir), Path(args.course), args.assignment, when=when)
    except CourseError as exc:
        return _fail(exc.args[0])
    for name in imported.skipped:
        print(
            f"skipped {shown(name)}/: not a student id (letters, digits and . _ - @ +, "
            "starting with a letter or digit); rename the folder to import it"
        )
    for student in sorted(set(imported.notebooks) | set(imported.reasons)):
        notebooks = imported.notebooks.get(student)
        count = f"{len(notebooks)} notebooks" if notebooks is not None else "not imported"
        print(f"{student}: {count}")
        for reason in imported.reasons.get(student, []):
            print(f"  {reason}")
    if imported.reasons:
        print("What was not read is left unsubmitted: 0 points, as a missing module.")
    print(f"Next, in {imported.course}: nbgrader autograde {args.assignment} --create")
    return 0
