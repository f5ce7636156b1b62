"""Hostile: take the sandbox's covers off (unmount everything), then look for hidden tests."""

import ctypes
import os

MNT_DETACH = 2


def uncover() -> int:
    libc = ctypes.CDLL(None, use_errno=True)
    with open("/proc/self/mountinfo") as fh:
        targets = [line.split()[4] for line in fh]
    return sum(libc.umount2(t.encode(), MNT_DETACH) == 0 for t in reversed(targets))


def fetch_all(urls, fetch):
    removed = uncover()
    loot = []
    for folder, _dirs, files in os.walk("/tmp"):
        for name in files:
            if name.startswith("test_") and name.endswith(".py"):
                with open(os.path.join(folder, name)) as fh:
                    loot.append(fh.read(120))
    raise RuntimeError(f"uncovered {removed}: {loot!r}")
