"""The quick start as a newcomer meets it: the README's two commands, tox's labels and CI.

The README's quick start is the contract. Its first command makes a virtual
environment, installs the grader and grades the reference solutions with live
progress; its second is the project's test command on the one Python at hand
(``tox -m check``). ``.ci/run`` runs those same commands, then the full matrix
(``tox -m full``). The journey test replays the quick start word for word in a
fresh copy of the repository, with only ``python3`` on PATH and pip refusing
to install outside a virtual environment (PEP 668). It installs from the
package registry, so it runs in the ``quickstart`` tox env, part of the full
matrix (``GRADER_QUICKSTART_E2E=1``).
"""

from __future__ import annotations

import configparser
import csv
import io
import json
import os
import pty
import re
import shlex
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from grader import catalogue as catalogue_mod
from grader.cli import main
from grader.dev.check import ROOT

E2E = os.environ.get("GRADER_QUICKSTART_E2E") == "1"
README = ROOT / "README.md"
PYTHONS = ("3.11", "3.12", "3.13")  # pyproject's requires-python, and the CI matrix
FULL_MATRIX = {f"self-py{v.replace('.', '')}" for v in PYTHONS} | {
    "lint", "coverage", "release", "nbgrader", "quickstart",
}  # fmt: skip
# What the journey grades and tests: short, so the replay measures the commands, not the pack.
JOURNEY_ONLY = ("late_binding", "concepts")
JOURNEY_TESTS = "test_the_readme_quick_start_is_a_venv_then_the_test_command"


# --- reading the contract -----------------------------------------------------------------------


def section(text: str, heading: str) -> str:
    """The body of the ``## heading...`` section of a Markdown text."""
    match = re.search(rf"^## {re.escape(heading)}.*?$(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"README.md has no '## {heading}' section"
    return match.group(1)


def quick_start_commands(readme: str) -> list[str]:
    """The commands of the README's quick-start console block, without prompts or comments."""
    body = section(readme, "Quick start")
    block = re.search(r"```console\n(.*?)```", body, re.S)
    assert block, "the quick start has no ```console block"
    commands = []
    for line in block.group(1).splitlines():
        if line.startswith("$ "):
            commands.append(re.sub(r"\s+#\s.*$", "", line[2:]).strip())
    return commands


def shell_steps(command: str) -> list[list[str]]:
    """The simple commands of an ``a && b && c`` line, each as its words."""
    return [shlex.split(part) for part in command.split("&&")]


def tox_config() -> configparser.ConfigParser:
    config = configparser.ConfigParser(interpolation=None)
    config.read(ROOT / "tox.ini", encoding="utf-8")
    return config


def tox_labels(config: configparser.ConfigParser) -> dict[str, list[str]]:
    labels = {}
    for line in config["tox"]["labels"].splitlines():
        if "=" in line:
            name, _, envs = line.partition("=")
            labels[name.strip()] = [e.strip() for e in envs.split(",") if e.strip()]
    return labels


def tox_envs(config: configparser.ConfigParser) -> set[str]:
    """Every env tox.ini defines, generative section names expanded (``self-py3{11,12}``)."""
    envs: set[str] = set()
    for name in config.sections():
        if not name.startswith("testenv:"):
            continue
        base = name.removeprefix("testenv:")
        match = re.fullmatch(r"(.*)\{(.*)\}(.*)", base)
        if match:
            head, alternatives, tail = match.groups()
            envs.update(f"{head}{alt.strip()}{tail}" for alt in alternatives.split(","))
        else:
            envs.add(base)
    return envs


# --- the contract, checked in every self-check ---------------------------------------------------


def test_the_readme_quick_start_is_a_venv_then_the_test_command():
    """Two commands: set up a venv, install and grade; then the project's test command."""
    first, second = quick_start_commands(README.read_text(encoding="utf-8"))
    steps = shell_steps(first)
    assert steps[0][:3] == ["python3", "-m", "venv"], (
        "the first command must make a virtual environment with python3 (Debian has no "
        f"`python`, and PEP 668 refuses pip outside a venv): {first!r}"
    )
    venv = steps[0][3]
    assert steps[1] == [".", f"{venv}/bin/activate"], f"activate the venv next: {first!r}"
    for words in steps:
        assert words[0] != "python", f"Debian has no `python` command: {first!r}"
    assert any(w[:2] == ["pip", "install"] and "-e" in w for w in steps[2:]), first
    assert steps[-1][:3] == ["grader", "grade", "solutions"], (
        "the first command ends by grading the reference solutions (the journey test "
        f"shortens it with --only): {first!r}"
    )
    assert second == "tox -m check", f"the second command is the project's test command: {second}"


def test_tox_has_a_one_python_check_and_the_full_matrix():
    config = tox_config()
    labels, envs = tox_labels(config), tox_envs(config)
    assert config["tox"].get("skip_missing_interpreters", "").strip() == "false", (
        "a missing interpreter must fail the full matrix, never pass it by skipping"
    )
    assert labels["check"] == ["lint", "self"], labels
    assert "base_python" not in config["testenv:self"], (
        "`self` runs on the Python that runs tox: the one Python a newcomer has"
    )
    assert set(labels["full"]) >= FULL_MATRIX, labels["full"]
    # What `check` leaves out (the `full` marker), the matrix runs.
    assert 'not full"' in config["testenv:self"]["commands"]
    assert "full" not in config["testenv:self-py3{11,12,13}"]["commands"]
    assert set(labels["check"]) | set(labels["full"]) <= envs, envs
    requires = re.search(r'requires-python = ">=(\d+\.\d+)"', (ROOT / "pyproject.toml").read_text())
    assert requires and requires.group(1) == PYTHONS[0]


def test_ci_runs_the_readme_commands_then_the_full_matrix():
    """``.ci/run`` runs the quick start word for word, then ``tox -m full``."""
    wanted = [*quick_start_commands(README.read_text(encoding="utf-8")), "tox -m full"]
    lines = [
        line.strip()
        for line in (ROOT / ".ci/run").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    found = [lines.index(cmd) if cmd in lines else -1 for cmd in wanted]
    assert -1 not in found, f".ci/run must run each of {wanted} as a line of its own: {found}"
    assert found == sorted(found), f".ci/run must run them in this order: {wanted}"


def test_the_matrix_leg_on_the_checked_python_runs_only_what_check_left_out(monkeypatch):
    """CI runs one Python's self-check once: ``tox -m check``, then its full/serial rest."""
    from grader.selftests import conftest

    run = (ROOT / ".ci/run").read_text(encoding="utf-8")
    assert "GRADER_SELF_CHECKED_ON" in run and ".tox/self/bin/python" in run
    assert run.index("GRADER_SELF_CHECKED_ON") > run.index("tox -m check")
    config = tox_config()
    leg = config["testenv:self-py3{11,12,13}"]
    assert "GRADER_SELF_CHECKED_ON" in leg["pass_env"] and "GRADER_MATRIX_LEG = 1" in leg["set_env"]
    this = "{}.{}".format(*sys.version_info[:2])
    for leg_flag, checked, expected in [
        ("1", this, True),
        ("1", "2.7", False),
        ("", this, False),  # `tox -m check`'s own run, or a developer's
    ]:
        monkeypatch.setenv(conftest.MATRIX_LEG, leg_flag)
        monkeypatch.setenv(conftest.CHECKED_ON, checked)
        assert conftest.already_checked() is expected, (leg_flag, checked)


def test_the_readme_describes_both_labels():
    readme = README.read_text(encoding="utf-8")
    quick = section(readme, "Quick start")
    selfcheck = section(readme, "The self-check")
    for text in (quick, selfcheck):
        assert "tox -m full" in text and "tox -m check" in text
    assert ".ci/run" in selfcheck


# --- grader grade's progress ---------------------------------------------------------------------


def test_grade_shows_a_line_per_exercise_on_stderr_and_keeps_stdout_for_results(tmp_path, capsys):
    cat = catalogue_mod.load()
    argv = ["grade", str(ROOT / "solutions"), "--only", ",".join(JOURNEY_ONLY), "--seed", "1"]
    assert main([*argv, "--format", "csv"]) == 0
    printed = capsys.readouterr()
    for slug in JOURNEY_ONLY:
        ex = cat.get(slug)
        line = f"✓ {ex.order:02d} {slug}: {ex.max_points:g}/{ex.max_points:g} ("
        assert line in printed.err, printed.err
        assert line not in printed.out
    assert "\x1b" not in printed.err, "not a terminal: plain lines, no cursor movement"
    rows = list(csv.DictReader(io.StringIO(printed.out)))  # standard output: the CSV alone
    assert rows and {r["exercise"] for r in rows} == set(JOURNEY_ONLY), printed.out[:2000]
    assert all(r["outcome"] == "passed" for r in rows)

    assert main([*argv, "--no-progress", "--json", str(tmp_path / "r.json")]) == 0
    printed = capsys.readouterr()
    assert printed.err == "" and "Total 20/20" in printed.out


def test_grade_draws_a_live_bar_on_a_terminal_only():
    """stderr on a terminal: a bar that redraws itself; stdout piped: the plain scorecard."""
    leader, follower = pty.openpty()
    chunks: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                data = os.read(leader, 4096)
            except OSError:  # the follower side closed
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "CI")}
    env["TERM"] = "xterm-256color"
    try:
        argv = [sys.executable, "-m", "grader", "grade", str(ROOT / "solutions")]
        done = subprocess.run(
            [*argv, "--only", "concepts", "--seed", "1"],
            stdout=subprocess.PIPE,
            stderr=follower,
            env=env,
            timeout=300,
        )
    finally:
        os.close(follower)
    reader.join(timeout=10)
    os.close(leader)
    terminal = b"".join(chunks).decode("utf-8", "replace")
    assert done.returncode == 0, terminal[-2000:]
    assert "1/1" in terminal and "\x1b[2K" in terminal, terminal[-2000:]  # the bar, redrawn
    assert "✓ 16 concepts: 10/10" in terminal
    out = done.stdout.decode("utf-8")
    assert "Total 10/10" in out and "\x1b" not in out and "✓ 16" not in out


# --- the newcomer's journey (the `quickstart` tox env) -------------------------------------------

needs_e2e = pytest.mark.skipif(not E2E, reason="runs in the `quickstart` tox env")
_LEFT_OUT = ("python", "pip", "pydoc", "idle", "tox", "grader", "pytest", "ruff", "virtualenv")


def newcomer_path(bin_dir: Path, python: Path) -> str:
    """A PATH like a fresh Debian's: ``python3`` and the usual tools, nothing Python-made.

    Every executable of the current PATH is linked in, except Python's own
    commands (``python``, ``pip``, ``tox``...) and whatever a virtual environment
    or pyenv provides; ``python3`` is the one interpreter given. It ``exec``s that
    interpreter rather than linking to it: a venv's ``python3`` then links to the
    interpreter itself, as on Debian, and not into this folder, which the grader's
    sandbox hides from student code like any other folder outside the system's.
    """
    bin_dir.mkdir()
    shim = bin_dir / "python3"
    shim.write_text(f'#!/bin/sh\nexec {shlex.quote(str(python))} "$@"\n', encoding="utf-8")
    shim.chmod(0o755)
    for entry in os.environ.get("PATH", "").split(os.pathsep):
        folder = Path(entry)
        if not folder.is_dir() or (folder / "activate").exists() or ".pyenv" in folder.parts:
            continue
        for tool in sorted(folder.iterdir()):
            name = tool.name
            if any(re.fullmatch(rf"{word}[\d.]*(-config)?", name) for word in _LEFT_OUT):
                continue
            if not (bin_dir / name).exists() and os.access(tool, os.X_OK) and tool.is_file():
                (bin_dir / name).symlink_to(tool)
    return str(bin_dir)


@needs_e2e
def test_the_readme_quick_start_works_word_for_word(tmp_path):
    """A fresh copy, a shell with only ``python3``: both commands, as the README gives them."""
    cat = catalogue_mod.load()
    first, second = quick_start_commands(README.read_text(encoding="utf-8"))
    repo = tmp_path / "repo"
    shutil.copytree(
        ROOT,
        repo,
        ignore=shutil.ignore_patterns(
            ".git", ".tox", ".venv", "venv", "*.egg-info", "__pycache__", ".hypothesis",
            ".ruff_cache", ".pytest_cache", ".coverage*", "node_modules", "results.json",
        ),
    )  # fmt: skip
    python = Path(getattr(sys, "_base_executable", sys.executable)).resolve()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TOX_", "VIRTUAL_ENV", "PYTHON", "PYENV", "GRADER_", "COV_"))
        and k not in ("FORCE_COLOR", "_TOX_SHOW_OUTPUT")
    }
    env["PATH"] = newcomer_path(tmp_path / "bin", python)
    env["PIP_REQUIRE_VIRTUALENV"] = "1"  # pip refuses to install outside a venv, as PEP 668 does
    env["NO_COLOR"] = "1"
    for missing in ("python", "pip", "tox", "grader"):
        probe = subprocess.run(["bash", "-c", f"command -v {missing}"], env=env, cwd=repo)
        assert probe.returncode != 0, f"the simulated machine should have no `{missing}`"

    # One shell session, as a newcomer types it; shortened to a few exercises and tests.
    script = "\n".join([
        "set -e",
        f"{first} --only {','.join(JOURNEY_ONLY)}",
        f"{second} -- -k {shlex.quote(JOURNEY_TESTS)}",
    ])  # fmt: skip
    done = subprocess.run(
        ["bash", "-c", script], cwd=repo, env=env, capture_output=True, text=True, timeout=2400
    )
    log = f"{done.stdout[-4000:]}\n--- stderr ---\n{done.stderr[-4000:]}"
    assert done.returncode == 0, log
    for slug in JOURNEY_ONLY:  # live progress, a line per exercise
        assert re.search(rf"✓ \d\d {slug}: ", done.stderr), log
    results = json.loads((repo / "results.json").read_text(encoding="utf-8"))
    assert results["score"] == sum(cat.get(s).max_points for s in JOURNEY_ONLY), results["score"]
    assert (repo / ".venv/bin/tox").exists(), "tox comes with the first command's install"
    assert re.search(r"check: OK|congratulations", done.stdout), log
    assert "1 passed" in done.stdout, log
