"""The one home of the pytest command lines that stream grader records.

Every caller that runs hidden tests (:mod:`grader.grading.runner`, and through
it ``grader grade``, the nbgrader cells and ``grader dev check``) gets its
command from :func:`hidden_test_command`; the self-check's recorded runs of the
visible tests come from :func:`recorded_test_command`. Both load the harness
plugin (the fixtures) and the grading plugin (the records) explicitly, since
the child runs with ``PYTEST_DISABLE_PLUGIN_AUTOLOAD`` (see
:func:`grader.sandbox.config.base_env`), and neither reads a ``conftest.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from grader import layout
from grader.catalogue import Exercise

#: The only plugins a recorded child loads (besides pytest's own).
PLUGINS = (
    "-p", "grader.harness.plugin", "-p", "grader.grading.pytest_plugin",
    "-p", "pytest_timeout", "-p", "no:cacheprovider",
)  # fmt: skip


def hidden_test_command(
    exercise: Exercise,
    submission: Path,
    results: Path,
    seed: int,
    subject: Path,
    node_ids: list[str] | None = None,
    python: str = sys.executable,
    *,
    hidden_dir: Path = layout.HIDDEN,
    key_fd: int | None = None,
) -> list[str]:
    """pytest on ``exercise``'s hidden tests (or just ``node_ids``) against ``submission``.

    The tests run in this child, the judge, outside the sandbox; the module loads in a
    subject process started from the recipe ``subject`` (``grading.judge.fixtures``).
    Records go to ``results``, signed with the key read from ``key_fd``. ``-P`` keeps the
    working folder off ``sys.path``.
    """
    hidden = hidden_dir / exercise.test_file
    targets = [str(hidden_dir / n) for n in node_ids] if node_ids else [str(hidden)]
    cmd = [
        python, "-P", "-m", "pytest", *targets, *PLUGINS,
        "--noconftest", "-q", "--color=no", "--tb=no",
        "--rootdir", str(hidden_dir), "-c", str(hidden_dir / "pytest.ini"),
        f"--timeout={exercise.test_timeout:g}", "--timeout-method=thread",
        "--impl", str(submission), "--grader-results", str(results),
        "--race-seed", str(seed), "--grader-subject", str(subject),
    ]  # fmt: skip
    if key_fd is not None:
        cmd += ["--grader-key-fd", str(key_fd)]
    return cmd


def recorded_test_command(
    tests: Path, impl: Path, results: Path, *, python: str = sys.executable, timeout: float = 60
) -> list[str]:
    """pytest on a visible test file against ``impl``, with unsigned records in ``results``.

    For the self-check, which reads each test's outcome from the records.
    """
    return [
        python, "-m", "pytest", str(tests), *PLUGINS, "-q", f"--timeout={timeout:g}",
        "--impl", str(impl), "--grader-results", str(results),
    ]  # fmt: skip
