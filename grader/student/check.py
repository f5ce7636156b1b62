"""``grader check`` and ``grader race``: run the visible tests, then the CI outputs.

On GitHub Actions the run also prints annotations and appends the job summary
(:mod:`grader.student.ci`); ``--json`` and ``--junit`` write results.json and
JUnit XML; ``--only-started`` passes while every started exercise passes.
"""

from __future__ import annotations

import os
import random
import sys
from pathlib import Path

from grader.catalogue import Catalogue, Exercise
from grader.student import ci
from grader.student.state import untouched
from grader.student.visible import race_banner, run_visible


def new_race_seed() -> int:
    """A fresh seed for the race amplifier (printed, so the run can be replayed)."""
    return random.SystemRandom().randrange(2**32)


def check(
    root: Path,
    cat: Catalogue,
    exercise: Exercise | None,
    extra: list[str],
    race_seed: int | None = None,
    race: bool = False,
    json_path: Path | None = None,
    junit_path: Path | None = None,
    only_started: bool = False,
) -> int:
    """Run the visible tests of ``exercise`` (None: all) and write the outputs asked for;
    return the exit code (with ``only_started``: CI's verdict)."""
    if race:
        seed = new_race_seed() if race_seed is None else race_seed
        extra = [*extra, "--race-seed", str(seed)]
        print(race_banner(exercise, seed), flush=True)
    rc, report = run_visible(root, exercise, race=race, extra=extra)
    if report is None or report.get("exitstatus") not in (0, 1):
        print("grader: the tests did not run to the end (see the output above)", file=sys.stderr)
        return rc or 1
    runs = ci.by_exercise(report, cat, not_started=untouched(root, cat))
    if exercise is not None:
        runs = [r for r in runs if r.exercise == exercise]
    if os.environ.get("GITHUB_ACTIONS") == "true":
        for line in ci.annotations(runs):
            print(line)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as fh:
            fh.write(ci.summary_markdown(runs, only_started=only_started) + "\n")
    if json_path is not None:
        ci.write_json(ci.results_json(runs), json_path)
    if junit_path is not None:
        ci.write_junit(runs, junit_path)
    if only_started:
        verdict, ok = ci.started_verdict(runs)
        print(verdict)
        return 0 if ok else 1
    return rc
