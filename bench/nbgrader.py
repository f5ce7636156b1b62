"""Benchmark: one class graded through nbgrader and through `grader`. Prints wall times.

    python bench/nbgrader.py [--students N] [--only SLUGS]     (needs: pip install .[nbgrader])

Builds a class of N ``.py`` submissions (cycling through the reference, the
stubs and catalogued mutants), an nbgrader course from the catalogue
(``grader nbgrader build`` → ``nbgrader generate_assignment`` → ``grader
nbgrader import``), then times:

* ``nbgrader autograde`` of the whole class (nbgrader runs notebooks one after
  another; each hidden-tests cell runs the same engine as ``grader grade``);
* ``grader grade`` once per student (two exercises at a time);
* ``grader batch`` of the whole class, when that command exists.

and prints each wall time, its ratio to nbgrader's, and nbgrader's total score.
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from grader import catalogue as catalogue_mod
from grader import layout
from grader.dev.mutation import mutants_of
from grader.nbcourse.course import ASSIGNMENT

ROOT = Path(__file__).resolve().parents[1]
FAST = "wait_for_all,amdahl,concepts"


def make_class(folder: Path, exercises, students: int) -> None:
    for i in range(students):
        student = folder / f"s{i:03d}"
        student.mkdir(parents=True)
        for ex in exercises:
            solution = (layout.SOLUTIONS / ex.module_file).read_text()
            kind = i % 3  # reference, stub, a mutant
            if kind == 0:
                text = solution
            elif kind == 1:
                text = (layout.EXERCISES / ex.module_file).read_text()
            else:
                mutants = mutants_of(ex)
                text = mutants[i % len(mutants)].source(solution) if mutants else solution
            (student / ex.module_file).write_text(text)


def timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if proc.returncode not in (0, 3):
        sys.exit(f"{' '.join(cmd[:4])} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return wall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=6)
    parser.add_argument("--only", default=FAST, help=f"exercises (default: {FAST}; 'all')")
    args = parser.parse_args()
    cat = catalogue_mod.load()
    slugs = [e.slug for e in cat] if args.only == "all" else args.only.split(",")
    exercises = [cat.get(s) for s in slugs]
    grader = [sys.executable, "-m", "grader"]
    with tempfile.TemporaryDirectory(prefix="bench-nbgrader-") as tmp:
        tmp = Path(tmp)
        env = dict(os.environ, GRADER_SEED="1")
        for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
            env[name] = str(tmp / name.lower())
        klass, course = tmp / "class", tmp / "course"
        make_class(klass, exercises, args.students)
        nbgrader = [sys.executable, "-m", "nbgrader"]
        setup = time.perf_counter()
        timed([*grader, "nbgrader", "build", str(course), "--only", ",".join(slugs)], tmp, env)
        timed([*nbgrader, "generate_assignment", ASSIGNMENT, "--force"], course, env)
        timed([*grader, "nbgrader", "import", str(klass), str(course), ASSIGNMENT], tmp, env)
        setup = time.perf_counter() - setup
        rows = [("nbgrader autograde", timed([*nbgrader, "autograde", ASSIGNMENT, "--create"],
                                             course, env))]  # fmt: skip
        timed([*nbgrader, "export"], course, env)
        with open(course / "grades.csv", newline="") as fh:
            nb_total = sum(float(r["score"]) for r in csv.DictReader(fh))
        per_student = 0.0
        for student in sorted(klass.iterdir()):
            per_student += timed([*grader, "grade", str(student), "--only", ",".join(slugs),
                                  "--seed", "1"], tmp, env)  # fmt: skip
        rows.append(("grader grade, per student", per_student))
        has_batch = subprocess.run([*grader, "batch", "--help"], capture_output=True).returncode
        if has_batch == 0:
            out = tmp / "batch"
            cmd = [*grader, "batch", str(klass), "--out", str(out), "--only", ",".join(slugs),
                   "--no-progress"]  # fmt: skip
            rows.append(("grader batch", timed(cmd, tmp, env)))
    print(
        f"{args.students} students × {len(slugs)} exercises ({', '.join(slugs)}); "
        f"{os.cpu_count()} CPUs; Python {sys.version.split()[0]}; course setup {setup:.1f}s "
        f"(build, generate_assignment, import); nbgrader total score {nb_total:g}"
    )
    base = rows[0][1]
    for name, wall in rows:
        print(f"  {name:<28} {wall:8.1f}s   nbgrader / this = {base / wall:5.2f}×")
    return 0


if __name__ == "__main__":
    sys.exit(main())
