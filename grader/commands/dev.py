"""``grader dev check|readme|contracts``: the pack maintainers' commands."""

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
    d = dev.add_parser("contracts", help="check the contract clauses; regenerate docs/contracts.md")
    d.add_argument("--write", action="store_true", help="rewrite docs/contracts.md")
    d.set_defaults(func=run_contracts)


def run_check(args: argparse.Namespace) -> int:
    from grader.dev.check import main

    return main(args.slugs, catalogue_mod.load())


def run_readme(args: argparse.Namespace) -> int:
    from grader.dev.check import ROOT
    from grader.dev.readme_table import rewrite

    changed = rewrite(ROOT / "README.md", catalogue_mod.load())
    print("README.md updated" if changed else "README.md already up to date")
    return 0


def run_contracts(args: argparse.Namespace) -> int:
    """Report clause problems; with ``--write`` regenerate the table, else check it is current."""
    from grader.dev import contracts

    cat = catalogue_mod.load()
    found = [p for ex in cat for p in contracts.problems(ex)]
    for problem in found:
        print(problem)
    path = contracts.TABLE_PATH
    if args.write:
        changed = contracts.write(cat)
        print(f"{path.name} updated" if changed else f"{path.name} already up to date")
        stale = False
    else:
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        stale = current != contracts.table(cat)
        if stale:
            print(f"{path.name} is out of date: run 'grader dev contracts --write'")
        elif not found:
            print(f"{path.name} is up to date; every clause has a test and a mutant")
    return 1 if found or stale else 0
