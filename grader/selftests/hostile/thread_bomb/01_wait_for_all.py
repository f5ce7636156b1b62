"""Hostile: start threads until the machine gives up."""

import threading
import time


def fetch_all(urls, fetch):
    while True:
        threading.Thread(target=time.sleep, args=(1000,), daemon=True).start()
