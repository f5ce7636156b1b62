"""Benchmark: how often each stress and timing mutant is caught, seed by seed. Prints figures.

    python bench/catch_rate.py [--seeds N] [--first-seed S] [--only SLUG[:MUTANT],...]
                               [--jobs J] [--all]

Every catalogued mutant whose ``loses`` names "stress" or "timing" is graded
(its exercise only; ``--all``: every mutant) under seeds S, S+1, ... S+N-1 (default 1..30). A run
catches the mutant when the self-check would pass it (``check_mutant``: it
loses points in every category of its ``loses``, with its diagnosis). Prints
the catch rate per mutant, the seeds that missed with what the run got, and
the minimum. A race the grader catches only on some seeds makes a student's
score depend on luck, so every rate should be 100%. Runs ``--jobs`` grades at
once (default: the usable CPUs); run it alone, or beside
``python -m grader.dev.hog 600 &`` to measure under load.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from grader import (
    catalogue,
    layout,
)
from grader.dev.check import check_mutant
from grader.dev.mutation import Mutant, mutants_of
from grader.machine import usable_cpus

ROOT = Path(__file__).resolve().parents[1]
RACY = frozenset({"stress", "timing"})


def racy_mutants(only: set[str] | None, every: bool = False) -> list[Mutant]:
    """The mutants to measure; ``only`` holds exercise slugs or mutant ids (``slug:name``)."""
    return [
        m
        for ex in catalogue.load()
        for m in mutants_of(ex)
        if (not only or ex.slug in only or m.id in only) and (every or RACY & set(m.loses))
    ]


def one(mutant: Mutant, seed: int) -> tuple[bool, str]:
    try:
        return check_mutant(mutant, catalogue.load(), layout.SOLUTIONS, seed)
    except Exception as exc:  # a broken mutant is a miss worth reading, not a crash
        return False, f"{type(exc).__name__}: {exc}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--only", default="", help="comma-separated slugs or slug:mutant ids")
    parser.add_argument("--jobs", type=int, default=usable_cpus())
    parser.add_argument("--all", action="store_true", help="every mutant, not only racy ones")
    args = parser.parse_args()
    only = {s.strip() for s in args.only.split(",") if s.strip()} or None
    mutants = racy_mutants(only, args.all)
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    kind = "" if args.all else "stress/timing "
    print(f"Python {sys.version.split()[0]}, {len(mutants)} {kind}mutants, "
          f"seeds {seeds.start}..{seeds.stop - 1}, {args.jobs} at once")  # fmt: skip
    started = time.perf_counter()
    caught: dict[str, int] = defaultdict(int)
    missed: dict[str, list[str]] = defaultdict(list)
    pending = {m.id: len(seeds) for m in mutants}
    width = max((len(m.id) for m in mutants), default=10) + 2
    print(f"{'mutant':<{width}}{'loses':<28}{'caught':>8}{'rate':>7}")
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = {pool.submit(one, m, s): (m, s) for m in mutants for s in seeds}
        for future in as_completed(futures):
            mutant, seed = futures[future]
            ok, detail = future.result()
            if ok:
                caught[mutant.id] += 1
            else:
                missed[mutant.id].append(f"seed {seed}: {detail}")
            pending[mutant.id] -= 1
            if not pending[mutant.id]:
                n, loses = caught[mutant.id], ",".join(mutant.loses)
                print(f"{mutant.id:<{width}}{loses:<28}"
                      f"{n:>4}/{len(seeds):<3}{n / len(seeds):>7.0%}", flush=True)  # fmt: skip
                for line in sorted(missed[mutant.id]):
                    print(f"    missed {line[:300]}", flush=True)
    rates = {m.id: caught[m.id] / len(seeds) for m in mutants}
    below = sorted((r, k) for k, r in rates.items() if r < 1)
    low = min(rates.values(), default=1.0)
    print(f"minimum catch rate {low:.0%}; {len(below)} mutant(s) below 100%"
          + "".join(f"\n    {k}: {r:.0%}" for r, k in below)
          + f"\n{time.perf_counter() - started:.0f} s")  # fmt: skip


if __name__ == "__main__":
    main()
