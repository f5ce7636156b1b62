"""A failed visible test in plain words: the message, the place in the student's
own file, and the student's own frames (never a line of a grader file, nor of a
test outside the visible ``tests/`` folder).

Messages and source lines come from the student's code: they are kept as
printable text (:func:`grader.reports.sanitize.terminal_text`), and no rendered
line may be a GitHub Actions workflow command
(:func:`~grader.reports.sanitize.workflow_safe`).
"""

from __future__ import annotations

import traceback
from pathlib import Path

from grader import catalogue as catalogue_mod
from grader.catalogue import Exercise
from grader.harness.diagnosis import diagnose
from grader.reports.sanitize import terminal_text, workflow_safe
from grader.student.outcomes import TestOutcome

_CHAIN_LIMIT = 5
_FRAME_LIMIT = 6


def display(path: str | Path) -> str:
    """``path`` relative to the current folder when it is inside it."""
    p = Path(path)
    try:
        return p.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(p)


def plain_message(exc: BaseException, limit: int = 2000) -> str:
    """The failure's message in plain words, without pytest's assertion introspection.

    The introspection (``assert x == y``) quotes the test's source; it is left
    out, and a message-less ``assert`` becomes the neutral line of :func:`diagnose`.
    """
    if isinstance(exc, AssertionError):
        lines = []
        for line in str(exc).splitlines():
            if line.startswith("assert "):
                break
            lines.append(line)
        text = "\n".join(lines).strip()
        if not text:
            return diagnose(exc)
    elif type(exc).__name__ == "Failed":
        text = str(exc).strip() or "failed"
    else:
        text = f"{type(exc).__name__}: {exc}".strip().rstrip(":")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def student_frames(exc: BaseException, root: Path) -> list[traceback.FrameSummary]:
    """Frames of ``exc`` (or of the exceptions it was raised from) in files under ``root``."""
    root_s = str(root.resolve())
    seen: set[int] = set()
    current: BaseException | None = exc
    for _ in range(_CHAIN_LIMIT):
        if current is None or id(current) in seen:
            break
        seen.add(id(current))
        frames = [
            f
            for f in traceback.extract_tb(current.__traceback__)
            if str(Path(f.filename).resolve()).startswith(root_s)
        ]
        if frames:
            return frames[-_FRAME_LIMIT:]
        current = current.__cause__ or current.__context__
    return []


def todo_line(path: Path) -> int | None:
    """The first line that still says TODO, where a student has work to do."""
    try:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if "TODO" in line:
                return number
    except OSError:
        return None
    return None


def syntax_error_line(path: Path) -> int | None:
    """The line of the syntax error in ``path``, if it does not compile.

    A module that does not compile fails every test with no frame of the student's
    in the traceback; the place to look is the error, not the first TODO.
    """
    try:
        compile(path.read_bytes(), str(path), "exec", dont_inherit=True)
    except SyntaxError as exc:
        return exc.lineno
    except (OSError, ValueError):
        return None
    return None


def test_location(exc: BaseException, tests_dir: Path) -> str | None:
    """``tests/test_x.py:LINE`` of the innermost frame in a visible test file, if any."""
    tests_s = str(tests_dir.resolve())
    found = None
    for f in traceback.extract_tb(exc.__traceback__):
        if str(Path(f.filename).resolve()).startswith(tests_s):
            found = f
    return f"{display(found.filename)}:{found.lineno}" if found else None


def describe_failure(
    item_name: str, ex: Exercise, exc: BaseException | None, impl: Path, tests_dir: Path
) -> TestOutcome:
    """A failed test as the student sees it: message, place in their code, their frames."""
    limit = catalogue_mod.load().output_limit
    name = terminal_text(item_name)
    outcome = TestOutcome(nodeid="", name=name, exercise=ex.slug, outcome="failed")
    module = impl / ex.module_file
    if exc is None:
        outcome.message = "failed"
    else:
        outcome.message = terminal_text(plain_message(exc, limit))
        frames = student_frames(exc, impl)
        outcome.frames = [
            terminal_text(f"{display(f.filename)}:{f.lineno} in {f.name}")
            + (f"\n    {terminal_text(f.line)}" if f.line else "")
            for f in frames
        ]
        if frames:
            outcome.file = terminal_text(display(frames[-1].filename))
            outcome.line = frames[-1].lineno
        outcome.test_location = test_location(exc, tests_dir)
    if outcome.file is None:
        outcome.file, outcome.line = display(module), syntax_error_line(module)
    if outcome.line is None:
        outcome.line = todo_line(module) or 1
    return outcome


def render_failure(outcome: TestOutcome, long_command: str | None = None) -> str:
    """The text of one failed test, in student mode (``long_command``: how to see more)."""
    where = f" ({outcome.test_location})" if outcome.test_location else ""
    parts = [f"✗ {outcome.name}{where}", indent(outcome.message, "  ")]
    if outcome.frames:
        parts.append("  In your code (innermost last):")
        parts.extend(indent(f, "    ") for f in outcome.frames)
    else:
        parts.append(f"  Look at {outcome.file}:{outcome.line}")
    if long_command:
        parts.append(f"  (For pytest's full traceback: {long_command})")
    return workflow_safe("\n".join(parts))


def indent(text: str, prefix: str) -> str:
    """Every line of ``text`` behind ``prefix``."""
    return "\n".join(prefix + line for line in text.splitlines())
