"""Hostile: leave a daemon behind (double fork, new session) that outlives the grading."""

import os

MARK = "31337.4242"  # the self-check looks for `sleep 31337.4242` afterwards


def fetch_all(urls, fetch):
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.execv("/bin/sleep", ["sleep", MARK])
        os._exit(0)
    return None
