"""Gradescope's autograder zip, as ``grader gradescope build`` writes it.

The zip (files at its root, as Gradescope wants them):

- ``setup.sh``: run once, as root, when Gradescope builds the image. It finds a
  Python >= 3.11 (installing one with apt if needed), makes a virtual
  environment (``/autograder/venv``: Ubuntu's own Python refuses ``pip``,
  PEP 668), installs the grader into it, and makes the hidden tests readable by
  root only.
- ``run_autograder``: run for every submission. It calls ``grader gradescope
  run`` (:func:`grader.release.gradescope_run.autograde`), which grades
  ``/autograder/submission`` and writes ``/autograder/results/results.json``.
- ``gradescope.toml``: the build's settings that ``run_autograder`` applies
  (:mod:`grader.release.gradescope_settings`).
- ``requirements.txt``: the grader's dependencies, pinned to the versions the
  zip was built with, so the image grades as the instructor's machine does.
- ``pyproject.toml``, ``README.md`` and ``grader/``: the grader package with its
  hidden tests (the autograder is instructor-side), so pip can install it.

Never in it: ``solutions/``, ``exercises/``, ``tests/``, ``grader/selftests/``
(mutants, alternative solutions), ``.git``, virtual environments and caches.
The zip is reproducible: sorted entries, fixed timestamps.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import tomllib
import zipfile
from pathlib import Path, PurePosixPath

import grader
from grader import atomic, layout
from grader.release.gradescope_settings import CONFIG, Settings, generated_note

PACKAGE = layout.PACKAGE
ROOT = layout.PACK
#: Folder names never copied from the grader package (the self-check, caches).
LEFT_OUT = frozenset({"selftests", "__pycache__", ".pytest_cache", ".ruff_cache"})
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # zip's earliest date: the same bytes on every build
_EXECUTABLE = ("setup.sh", "run_autograder")


class BuildError(RuntimeError):
    """The autograder cannot be built (not a checkout, or an unsafe output path)."""


SETUP_SH = """#!/usr/bin/env bash
# {note}
# Gradescope runs this once, as root, when it builds the autograder image.
# GRADER_AUTOGRADER_ROOT stands in for /autograder (to try it elsewhere).
set -euo pipefail
root="${{GRADER_AUTOGRADER_ROOT:-/autograder}}"
source="$root/source"
venv="$root/venv"
export DEBIAN_FRONTEND=noninteractive

find_python() {{
    # The newest Python 3.11+ on PATH.
    for candidate in python3.13 python3.12 python3.11 python3; do
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}}

python="$(find_python || true)"
if [ -z "$python" ]; then
    # Ubuntu 22.04 ships 3.10: its universe archive has 3.11, the deadsnakes PPA otherwise.
    apt-get update
    if ! apt-get install -y python3.11 python3.11-venv; then
        apt-get install -y software-properties-common
        add-apt-repository -y ppa:deadsnakes/ppa
        apt-get update
        apt-get install -y python3.11 python3.11-venv
    fi
    python="$(find_python)"
fi
# Debian and Ubuntu ship venv's pip separately (pythonX.Y-venv).
if ! "$python" -c 'import ensurepip, venv' 2>/dev/null; then
    apt-get update
    apt-get install -y "$(basename "$python")-venv" || apt-get install -y python3-venv
fi
echo "Python for the grader: $python ($("$python" --version))"

# A virtual environment: Ubuntu's Python refuses pip outside one (PEP 668).
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet -r "$source/requirements.txt"
"$venv/bin/python" -m pip install --quiet --no-deps "$source"

# The hidden tests are root's only: graded code runs as another uid.
find "$source" "$venv" -type d -path '*/grader/hidden' -exec chmod -R go-rwx {{}} +
"$venv/bin/grader" gradescope run --check --root "$root"
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# {note}
# Gradescope runs this for every submission: it grades /autograder/submission and
# writes /autograder/results/results.json (this output is the instructor's log).
# GRADER_AUTOGRADER_ROOT and GRADER_VENV stand in for /autograder and its venv.
set -euo pipefail
root="${{GRADER_AUTOGRADER_ROOT:-/autograder}}"
venv="${{GRADER_VENV:-$root/venv}}"
cd "$root"
exec "$venv/bin/grader" gradescope run --root "$root"
"""

README = """# Gradescope autograder for the concurrency exercise pack

{note}

Upload this zip as the assignment's autograder (Gradescope's default Ubuntu
image). Choose a machine with at least 2 CPUs: on fewer, the tests that prove
CPU parallelism are reported as not graded and hold no points.

Settings of this build (`gradescope.toml`): {settings}.
"""


def requirements(root: Path = ROOT) -> str:
    """The project's dependencies, each pinned to the version installed here (if it is)."""
    with open(root / "pyproject.toml", "rb") as fh:
        deps = tomllib.load(fh)["project"]["dependencies"]
    lines = [
        f"# {generated_note(grader.__version__)}",
        "# Pinned to the versions it was built with.",
    ]
    for spec in deps:
        name = re.match(r"[A-Za-z0-9._-]+", spec).group(0)
        try:
            lines.append(f"{name}=={importlib.metadata.version(name)}  # pyproject: {spec}")
        except importlib.metadata.PackageNotFoundError:
            lines.append(spec)
    return "\n".join(lines) + "\n"


def package_files(package: Path = PACKAGE) -> list[Path]:
    """The grader package's regular files, hidden tests included, selftests and caches not."""
    found = []
    pending = [package]
    while pending:
        folder = pending.pop()
        for entry in sorted(os.scandir(folder), key=lambda e: e.name):
            if entry.is_symlink() or entry.name.startswith("."):
                continue
            if entry.is_dir():
                if entry.name not in LEFT_OUT:
                    pending.append(Path(entry.path))
            elif entry.is_file() and not entry.name.endswith((".pyc", ".pyo")):
                found.append(Path(entry.path))
    return sorted(found)


def contents(settings: Settings, root: Path = ROOT) -> dict[str, bytes]:
    """Every file of the zip, by its path in the zip."""
    version = grader.__version__
    note = generated_note(version)
    if not (root / "pyproject.toml").is_file() or not (root / "grader" / "hidden").is_dir():
        raise BuildError(f"{root} is not the pack's checkout (no pyproject.toml or grader/hidden)")
    shown = ", ".join(f"{k}={v}" for k, v in settings.visibility.settings().items())
    graded = ", ".join(settings.exercises) or "all exercises"
    files = {
        "setup.sh": SETUP_SH.format(note=note),
        "run_autograder": RUN_AUTOGRADER.format(note=note),
        CONFIG: settings.to_toml(version),
        "requirements.txt": requirements(root),
        "README.md": README.format(note=note, settings=f"visibility {shown}; {graded}"),
    }
    out = {name: text.encode() for name, text in files.items()}
    out["pyproject.toml"] = (root / "pyproject.toml").read_bytes()
    package = root / "grader"
    for path in package_files(package):
        out[str(PurePosixPath("grader", *path.relative_to(package).parts))] = path.read_bytes()
    return out


def build(out: Path, settings: Settings, root: Path = ROOT) -> dict[str, bytes]:
    """Write the autograder zip to ``out`` (atomically); returns what it holds."""
    out = Path(out).resolve()
    if out.suffix != ".zip":
        raise BuildError(f"{out.name}: the autograder must be a .zip file")
    if out.is_relative_to(root.resolve() / "grader"):
        raise BuildError("refusing to write the zip inside the grader package it copies")
    files = contents(settings, root)
    write_zip(out, files)
    return files


def write_zip(out: Path, files: dict[str, bytes]) -> None:
    """``files`` as a zip at ``out``, atomically: same files, same bytes (fixed dates, order)."""
    with (
        atomic.writing(out, mode=0o644) as fh,
        zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED) as zf,
    ):
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (0o100755 if name in _EXECUTABLE else 0o100644) << 16
            zf.writestr(info, files[name])
