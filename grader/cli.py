"""The ``grader`` command line (also ``python -m grader``).

Sub-commands live in :mod:`grader.commands`, one module each: ``grader grade``,
``grader list``, ``grader hint``, ``grader dev check|readme``, ...
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil

from grader import commands


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="grader", description="Concurrency exercise pack: grading and student tools."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        importlib.import_module(f"{commands.__name__}.{info.name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)
