"""What counts as leaking the answers into the student pack, and a checker for it.

A *solution line* is a line of a reference solution (``solutions/``) or of an
alternative solution (``grader/selftests/alternatives/``) that is not in the
exercise's stub, is not trivial (shorter than :data:`MIN_CHARS` non-blank
characters once stripped: ``return``, ``else:``, ``t.join()``...), is not an
import, and is not already public by design (it appears in a visible test, a
stub or a public grader module of the project). *Hidden text* is the same for
the hidden tests (``grader/hidden/``). A release leaks if any of its files
contains one of these lines (compared stripped, line by line).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from grader import layout

MIN_CHARS = 12


def normalise(line: str) -> str:
    return " ".join(line.split())


def significant(line: str) -> bool:
    n = normalise(line)
    return len(n) >= MIN_CHARS and not n.startswith(("import ", "from "))


def lines_of(path: Path) -> set[str]:
    try:
        text = path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError):
        text = path.read_bytes().decode("utf-8", "ignore")
    return {normalise(line) for line in text.splitlines()}


def public_lines(root: Path) -> set[str]:
    """Every line that is no answer: stubs, visible tests, the grader's product code."""
    out: set[str] = set()
    pack = layout.Pack(root)
    for folder in (pack.exercises, pack.tests):
        for path in folder.glob("*.py"):
            out |= lines_of(path)
    for path in (root / "grader").rglob("*.py"):  # the grader's own code holds no answer
        if not {"hidden", "selftests"} & set(path.relative_to(root / "grader").parts):
            out |= lines_of(path)
    return out


@dataclass(frozen=True)
class Secret:
    line: str
    source: str  # project-relative path it comes from


def secrets(root: Path) -> list[Secret]:
    """The solution lines and hidden-test lines that must never appear in a release."""
    public = public_lines(root)
    found: dict[str, str] = {}
    sources = sorted(layout.Pack(root).solutions.glob("*.py"))
    sources += sorted((root / "grader/selftests/alternatives").glob("*/*.py"))
    sources += sorted(p for p in (root / "grader/hidden").glob("*") if p.is_file())
    for path in sources:
        stub = layout.Pack(root).exercises / path.name
        own_stub = lines_of(stub) if stub.is_file() else set()
        for line in lines_of(path):
            if significant(line) and line not in own_stub and line not in public:
                found.setdefault(line, path.relative_to(root).as_posix())
    return [Secret(line, source) for line, source in sorted(found.items())]


def find_leaks(release: Path, secret_lines: list[Secret]) -> list[str]:
    """``file: line (from source)`` for every secret line found in the release."""
    by_line = {s.line: s.source for s in secret_lines}
    leaks = []
    for path in sorted(p for p in release.rglob("*") if p.is_file()):
        for line in sorted(lines_of(path) & by_line.keys()):
            leaks.append(f"{path.relative_to(release)}: {line!r} (from {by_line[line]})")
    return leaks
