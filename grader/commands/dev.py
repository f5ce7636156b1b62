"""``grader dev check|readme``: the pack maintainers' commands."""

from __future__ import annotations

import argparse

from grader import catalogue as catalogue_mod


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("dev", help="pack maintainers' commands")
    dev = p.add_subparsers(dest="dev_command", required=True)
    d = dev.add_parser("check", help="stubs fail, solutions pass, mutants are caught")
    d.add_argument("slugs", nargs="*", help="exercises to check (default: all)")
    d.set_defaults(func=run_check)
    d = dev.add_parser("readme", help="regenerate the README's exercise table from the catalogue")
    d.set_defaults(func=run_readme)


def run_check(args: argparse.Namespace) -> int:
    from grader.selftests.devcheck import main

    return main(args.slugs, catalogue_mod.load())


def run_readme(args: argparse.Namespace) -> int:
    from grader.selftests.devcheck import ROOT
    from grader.selftests.readme_table import rewrite

    changed = rewrite(ROOT / "README.md", catalogue_mod.load())
    print("README.md updated" if changed else "README.md already up to date")
    return 0
