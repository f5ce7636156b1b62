"""Hostile: time.sleep(10**6) at import."""

import time

time.sleep(10**6)
