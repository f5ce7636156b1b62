"""Which cells the Jupyter kernel runs and records for the nbgrader course.

The grader's own cells are the texts :func:`grader.nbcourse.notebooks.grader_cells`
generates (the setup cell, the visible-tests cell, one hidden-tests cell per
category). Nothing a student can write is trusted as one: not a marker, not a
cell id, not the notebook's metadata. A cell counts as the grader's only when its
whole text, trailing whitespace aside, is one of those texts.

**While nbgrader autogrades** (``NBGRADER_EXECUTION=autograde``) the kernel is
started with this module as an IPython extension (``Execute.extra_arguments`` in
the generated ``nbgrader_config.py``), so :class:`Guard` is the first input
transformer before any cell runs. IPython runs it before every other
transformation (cell magics, ``%line`` magics and ``!shell`` escapes come
later), on the raw text of the whole cell, and:

* runs the grader's own text for that cell (never the student's copy of it);
  before the setup cell only a setup cell may run, and the setup cell fixes
  the notebook's exercise: from then on only that exercise's cells run;
* turns any other cell that looks like a grader cell (the marker, the
  hidden-tests delimiters, ``grader.nbcourse.cell``) into an error. A grade cell
  that does not run would get full marks from nbgrader (no error output), so a
  grade cell whose text is not the grader's (an out-of-date course, another
  exercise's cell) scores 0, never full marks;
* turns every other cell into nothing: student code never runs in the kernel
  (it is recorded, then graded in the sandbox by ``score``).

The kernel also never imports from its working folder (the submission's
files): ``ignore_cwd`` in the same arguments, and the guard drops it from
``sys.path`` again.

**The recorder** (IPython's ``pre_run_cell`` event, registered by ``begin``)
keeps the text of every cell that is not one of the grader's, in order: the
student's module. While autograding each cell runs once and is kept in the
order it ran; elsewhere (a student's own Jupyter) running a cell again replaces
its text in its place.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import os
import sys
from typing import Any

from grader import catalogue as catalogue_mod
from grader.nbcourse.notebooks import BEGIN_HIDDEN, END_HIDDEN, MARK, grader_cells

AUTOGRADE = "autograde"  # nbgrader's NBGRADER_EXECUTION while autograding
# Text only the grader's cells hold; a cell with it that is not exactly one of them fails.
# A cell that names this package (the cells' API) is the grader's, or a forgery.
_GRADER_SIGNS = (MARK, BEGIN_HIDDEN, END_HIDDEN, __name__.rpartition(".")[0])  # grader.nbcourse
_REFUSAL = "from grader.nbcourse.guard import refuse as _grader_refuse\n_grader_refuse()\n"


class CellRefused(RuntimeError):
    """A cell that looks like the grader's but is not one of its cells for this notebook."""


def autograding() -> bool:
    return os.environ.get("NBGRADER_EXECUTION") == AUTOGRADE


def normalise(text: str) -> str:
    """The text with trailing whitespace (of each line, and blank lines at the end) removed."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


def _released(source: str) -> str:
    """A hidden-tests cell as ``generate_assignment`` releases it: the region removed."""
    kept, inside = [], False
    for line in source.split("\n"):
        if BEGIN_HIDDEN in line:
            inside = True
        elif END_HIDDEN in line:
            inside = False
        elif not inside:
            kept.append(line)
    return "\n".join(kept)


@functools.cache
def _tables() -> tuple[dict[str, dict[str, str]], dict[str, str], dict[str, str]]:
    """(slug -> {normalised text: source}, setup text -> slug, any form -> slug)."""
    cells: dict[str, dict[str, str]] = {}
    setups: dict[str, str] = {}
    forms: dict[str, str] = {}
    for ex in catalogue_mod.load():
        cells[ex.slug] = {}
        for cid, source, _meta in grader_cells(ex):
            text = normalise(source)
            cells[ex.slug][text] = source
            forms[text] = forms[normalise(_released(source))] = ex.slug
            if cid == "setup":
                setups[text] = ex.slug
    return cells, setups, forms


def grader_source(text: str, slug: str) -> str | None:
    """The grader's source of this cell if ``text`` is one of ``slug``'s grader cells."""
    return _tables()[0].get(slug, {}).get(normalise(text))


def setup_exercise(text: str) -> str | None:
    """The exercise whose setup cell ``text`` is, if any."""
    return _tables()[1].get(normalise(text))


def exercise_of(text: str) -> str | None:
    """The exercise whose grader cell ``text`` is (as built or as released), if any."""
    return _tables()[2].get(normalise(text))


def looks_like_grader(text: str) -> bool:
    return any(sign in text for sign in _GRADER_SIGNS)


def refuse() -> None:
    """What a refused cell runs (see :class:`Guard`)."""
    raise CellRefused(
        "not run while autograding: this cell is not one of the grader's cells for this "
        "notebook (an edited or added cell, or a course out of date: `grader nbgrader check`)"
    )


def _lines(source: str) -> list[str]:
    return (source if source.endswith("\n") else source + "\n").splitlines(keepends=True)


class Guard:
    """IPython input transformer used while autograding: only the grader's cells run."""

    def __init__(self, at_start: bool) -> None:
        self.at_start = at_start  # loaded before any cell ran (the kernel's arguments)
        self.slug: str | None = None  # the notebook's exercise, fixed by its setup cell

    def lock(self, slug: str) -> None:
        if self.slug not in (None, slug):
            raise CellRefused(f"this notebook is set up for {self.slug!r}, not {slug!r}")
        self.slug = slug

    def __call__(self, lines: list[str]) -> list[str]:
        text = "".join(lines)
        if self.slug is None:
            slug = setup_exercise(text)
            source = grader_source(text, slug) if slug else None
        else:
            source = grader_source(text, self.slug)
        if source is not None:
            return _lines(source)
        return _lines(_REFUSAL) if looks_like_grader(text) else []


_guard: Guard | None = None


def active() -> Guard | None:
    """The kernel's guard, if it was installed (only ever while autograding)."""
    return _guard


def install(shell: Any, *, at_start: bool = False) -> Guard | None:
    """Put the guard first among ``shell``'s input transformers, while autograding."""
    global _guard
    if not autograding():
        return None
    if _guard is None:
        _guard = Guard(at_start)
    transformers = shell.input_transformers_cleanup
    if _guard in transformers:
        transformers.remove(_guard)
    transformers.insert(0, _guard)
    cwd = os.path.realpath(os.getcwd())
    sys.path[:] = [p for p in sys.path if p not in ("", ".") and os.path.realpath(p) != cwd]
    return _guard


def load_ipython_extension(shell: Any) -> None:
    """IPython loads the guard when the kernel starts (``nbgrader_config.py``)."""
    install(shell, at_start=True)


# --- the recorder -------------------------------------------------------------------------------


class Recorder:
    """Records the text of every cell the kernel runs that is not one of the grader's."""

    def __init__(self, slug: str, *, in_order_run: bool) -> None:
        self.slug = slug
        self.in_order_run = in_order_run  # autograding: each cell once, kept in run order
        self.cells: dict[tuple[str, Any], str] = {}
        self._runs = itertools.count()

    def pre_run_cell(self, info: Any) -> None:
        raw = getattr(info, "raw_cell", None) or ""
        if not raw.strip() or exercise_of(raw) is not None:
            return
        cell_id = getattr(info, "cell_id", None)
        if self.in_order_run or not isinstance(cell_id, str) or not cell_id:
            key: tuple[str, Any] = ("run", next(self._runs))
        else:  # a student's own Jupyter: running a cell again replaces it in its place
            key = ("id", cell_id)
        self.cells[key] = raw


_recorder: Recorder | None = None


def record(shell: Any, slug: str) -> Recorder:
    """A fresh recorder for ``shell`` (the setup cell: the module starts here)."""
    global _recorder
    if _recorder is not None:
        with contextlib.suppress(ValueError):
            shell.events.unregister("pre_run_cell", _recorder.pre_run_cell)
    _recorder = Recorder(slug, in_order_run=autograding())
    shell.events.register("pre_run_cell", _recorder.pre_run_cell)
    return _recorder


def recorded() -> list[str] | None:
    """The student's cells recorded since the setup cell, in order (None: no setup cell ran)."""
    return None if _recorder is None else list(_recorder.cells.values())
