"""Ideal times computed from known delays, and a median-of-rounds verdict.

Timing is judged against what a perfect schedule of the *known* simulated
delays would take, never against another wall-clock measurement, and always
together with the peak in-flight count (which is exact under load). CPU-bound
wall-clock speedup is never judged: on a small shared machine it is noise.
"""

from __future__ import annotations

import heapq
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass


def sequential_ideal(delays: Sequence[float]) -> float:
    """One call at a time."""
    return float(sum(delays))


def sliding_window_ideal(delays: Sequence[float], limit: int) -> float:
    """Makespan when each of ``limit`` slots takes the next item as soon as it frees."""
    if not delays:
        return 0.0
    slots = [0.0] * min(limit, len(delays))
    for d in delays:
        start = heapq.heappop(slots)
        heapq.heappush(slots, start + d)
    return max(slots)


def batch_ideal(delays: Sequence[float], limit: int) -> float:
    """Makespan of fixed batches of ``limit``, each waiting for its slowest call."""
    return float(sum(max(delays[i : i + limit]) for i in range(0, len(delays), limit)))


@dataclass(frozen=True)
class Verdict:
    passed: bool
    value: float  # the median measurement
    rounds: tuple[float, ...]

    def describe(self, unit: str = "") -> str:
        shown = ", ".join(f"{r:.3g}{unit}" for r in self.rounds)
        return f"median {self.value:.3g}{unit} over rounds [{shown}]"


def median_verdict(
    measure: Callable[[], float], passes: Callable[[float], bool], rounds: int = 3
) -> Verdict:
    """Measure up to ``rounds`` times and judge the median.

    Stops as soon as a majority agrees, so a clear pass or fail costs two
    rounds at most (one when ``rounds == 1``). A single stall on a noisy
    machine cannot fail a correct solution, and a slow one cannot pass on one
    lucky round.
    """
    values: list[float] = []
    need = rounds // 2 + 1
    while len(values) < rounds:
        values.append(measure())
        ok = sum(passes(v) for v in values)
        if ok >= need or len(values) - ok >= need:
            break
    median = (
        statistics.median_low(sorted(values)) if len(values) % 2 == 0 else statistics.median(values)
    )
    return Verdict(
        passed=sum(passes(v) for v in values) >= need, value=median, rounds=tuple(values)
    )
