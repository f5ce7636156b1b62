"""The contract table: each clause of each stub's docstring, its hidden tests and mutants.

Each exercise's mutants file (``grader/selftests/mutants/NN_slug.toml``) lists
the clauses of its stub's contract as ``[[clause]]`` tables with ``id``
(unique within the exercise), ``text`` (the clause, in the stub's words),
``tests`` (hidden test functions that fail when the clause is broken; a
parametrised test is named by its base name) and ``mutants`` (mutants of the
same file that break it). ``grader dev contracts --write`` renders every
clause into ``docs/contracts.md``; the self-check fails when that file is out
of date, when an exercise has no clause, or when a clause names no test, no
mutant, or one that does not exist. ``grader dev check`` additionally checks
that each clause's mutants fail at least one of the clause's tests.
"""

from __future__ import annotations

import ast
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from grader import layout
from grader.catalogue import Catalogue, Exercise
from grader.dev.mutation import MUTANTS_DIR, mutants_file, mutants_of

HIDDEN_DIR = layout.HIDDEN
TABLE_PATH = layout.CONTRACTS_TABLE
KEYS = {"id", "text", "tests", "mutants"}


@dataclass(frozen=True)
class Clause:
    exercise: Exercise
    id: str
    text: str
    tests: tuple[str, ...]
    mutants: tuple[str, ...]


def _strings(raw: dict, key: str, where: str) -> tuple[str, ...]:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ValueError(f"{where}: {key} must be a list of non-empty strings")
    return tuple(value)


def clauses_of(exercise: Exercise, directory: Path = MUTANTS_DIR) -> list[Clause]:
    """The ``[[clause]]`` tables of ``exercise``'s mutants file, checked for shape only."""
    path = directory / f"{exercise.stem}.toml"
    tables = mutants_file(exercise, directory).get("clause", [])
    if not isinstance(tables, list):
        raise ValueError(f"{path.name}: clause must be an array of tables ([[clause]])")
    clauses = []
    for n, raw in enumerate(tables, 1):
        if not isinstance(raw, dict):
            raise ValueError(f"{path.name}: clause #{n} is not a table")
        where = f"{path.name}: clause {raw.get('id', f'#{n}')!r}"
        if unknown := sorted(set(raw) - KEYS):
            raise ValueError(f"{where}: unknown keys {unknown}")
        for key in ("id", "text"):
            if not isinstance(raw.get(key), str) or not raw[key].strip():
                raise ValueError(f"{where}: {key} must be a non-empty string")
        clauses.append(
            Clause(
                exercise=exercise,
                id=raw["id"],
                text=" ".join(raw["text"].split()),
                tests=_strings(raw, "tests", where),
                mutants=_strings(raw, "mutants", where),
            )
        )
    return clauses


def hidden_tests(exercise: Exercise, hidden: Path = HIDDEN_DIR) -> set[str]:
    """Names of the test functions defined at the top level of the hidden test file."""
    tree = ast.parse((hidden / exercise.test_file).read_text(encoding="utf-8"))
    return {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test")
    }


def base_name(nodeid: str) -> str:
    """``path::test_x[param]`` → ``test_x``: the function a pytest node id belongs to."""
    return nodeid.split("[", 1)[0].rsplit("::", 1)[-1]


def problems(
    exercise: Exercise, directory: Path = MUTANTS_DIR, hidden: Path = HIDDEN_DIR
) -> list[str]:
    """What is wrong with ``exercise``'s clauses (an empty list when nothing is)."""
    try:
        clauses = clauses_of(exercise, directory)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        return [str(exc)]
    if not clauses:
        return [f"{exercise.slug}: no clause of its contract is listed"]
    tests = hidden_tests(exercise, hidden)
    mutants = {m.name for m in mutants_of(exercise, directory)}
    found, seen = [], set()
    for c in clauses:
        where = f"{exercise.slug}: clause {c.id!r}"
        if c.id in seen:
            found.append(f"{where} is listed twice")
        seen.add(c.id)
        if not c.tests:
            found.append(f"{where} has no hidden test")
        if not c.mutants:
            found.append(f"{where} has no mutant")
        found += [f"{where}: no hidden test {t!r}" for t in c.tests if t not in tests]
        found += [f"{where}: no mutant {m!r}" for m in c.mutants if m not in mutants]
    return found


def unshown(
    exercise: Exercise, mutant: str, failed: Iterable[str], directory: Path = MUTANTS_DIR
) -> list[str]:
    """Ids of the clauses naming ``mutant`` none of whose tests are among ``failed`` node ids."""
    names = {base_name(nodeid) for nodeid in failed}
    return [
        c.id
        for c in clauses_of(exercise, directory)
        if mutant in c.mutants and not names & set(c.tests)
    ]


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def table(cat: Catalogue, directory: Path = MUTANTS_DIR) -> str:
    """The text of ``docs/contracts.md``."""
    per = {ex.slug: clauses_of(ex, directory) for ex in cat}
    lines = [
        "# Contract coverage",
        "",
        "<!-- GENERATED by `grader dev contracts --write` from the [[clause]] tables of",
        "     grader/selftests/mutants/*.toml; do not edit by hand. -->",
        "",
        "Each clause of each stub's contract, the hidden tests that fail when it is",
        "broken and the mutants that break it. `grader dev check` verifies that every",
        "mutant fails at least one of its clause's tests.",
        "",
        "| exercise | clauses |",
        "| --- | --- |",
        *(f"| {ex.order:02d} `{ex.slug}` | {len(per[ex.slug])} |" for ex in cat),
        f"| total | {sum(len(v) for v in per.values())} |",
    ]
    for ex in cat:
        lines += ["", f"## {ex.order:02d} `{ex.slug}`", ""]
        if not per[ex.slug]:
            lines.append("No clause is listed.")
            continue
        lines += ["| clause | text | tests | mutants |", "| --- | --- | --- | --- |"]
        for c in per[ex.slug]:
            tests = "<br>".join(f"`{t}`" for t in c.tests)
            mutants = "<br>".join(f"`{m}`" for m in c.mutants)
            lines.append(f"| `{c.id}` | {_cell(c.text)} | {tests} | {mutants} |")
    return "\n".join(lines) + "\n"


def write(cat: Catalogue, path: Path | None = None) -> bool:
    """Regenerate the table file (``TABLE_PATH`` by default); return whether it changed."""
    path = path or TABLE_PATH
    new = table(cat)
    old = path.read_text(encoding="utf-8") if path.exists() else None
    if new != old:
        path.write_text(new, encoding="utf-8")
    return new != old
