"""What this machine offers the grader: the one home of CPU counting.

Worker pools, the grader's own parallelism and the tests that need two CPUs
all ask the same question; they get the same answer from here.
"""

from __future__ import annotations

import os


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity), not the machine's total."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1
