"""Hostile: kill the grader (the parent process), its process group, and everyone else."""

import contextlib
import os
import signal


def fetch_all(urls, fetch):
    with contextlib.suppress(OSError):
        os.kill(os.getppid(), signal.SIGKILL)
    with contextlib.suppress(OSError):
        os.killpg(os.getpgid(os.getppid()), signal.SIGKILL)
    with contextlib.suppress(OSError):
        os.kill(1, signal.SIGKILL)
    return None
