"""Hostile: every worker thread calls sys.exit() instead of working."""

import sys
import threading


def fetch_all(urls, fetch):
    threads = [threading.Thread(target=sys.exit, args=(0,)) for _ in urls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return None
