"""``grader watch``: re-run an exercise's visible tests every time its file is saved.

Saves are found by polling each file's modification time and size (no file-system
events: they miss saves in some editors, network and container folders), and the
message says how to run the tests by hand in case polling misses them too.
"""

from __future__ import annotations

import time
from pathlib import Path

from grader import layout
from grader.catalogue import Exercise
from grader.student.visible import run_visible


def snapshot(paths: list[Path]) -> dict[Path, tuple[int, int]]:
    """Each file's (mtime in ns, size); (0, 0) for a file that cannot be read."""
    out = {}
    for p in paths:
        try:
            st = p.stat()
            out[p] = (st.st_mtime_ns, st.st_size)
        except OSError:
            out[p] = (0, 0)
    return out


def watch(
    root: Path,
    exercises: list[Exercise],
    chosen: Exercise | None = None,
    interval: float = 1.0,
    max_runs: int = 0,
) -> None:
    """Poll ``exercises`` (or only ``chosen``) and run the tests of each one saved;
    stop after ``max_runs`` runs (0: never) or on Ctrl-C."""
    watched = [chosen] if chosen else exercises
    by_path = {layout.Pack(root).exercises / ex.module_file: ex for ex in watched}
    where = f"exercises/{chosen.module_file}" if chosen else "exercises/"
    by_hand = f"tox -e check -- {chosen.slug}" if chosen else "tox -e check -- SLUG"
    print(
        f"Watching {where} (checking for saves every {interval:g} s); Ctrl-C stops.\n"
        f"If saving does not start a run (some editors, network or container folders), "
        f"run the tests by hand: {by_hand}",
        flush=True,
    )
    before = snapshot(list(by_path))
    runs = 0
    try:
        while not max_runs or runs < max_runs:
            time.sleep(interval)
            now = snapshot(list(by_path))
            changed = [p for p in by_path if now[p] != before[p]]
            before = now
            for path in changed:
                print(f"\n{path.name} changed: running its visible tests", flush=True)
                run_visible(root, by_path[path])
                runs += 1
                print(f"\nWatching {where} again (or run by hand: {by_hand})", flush=True)
    except KeyboardInterrupt:
        print("\nStopped watching.")
