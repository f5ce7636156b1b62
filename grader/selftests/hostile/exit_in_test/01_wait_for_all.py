"""Hostile: sys.exit(0) inside the function under test."""

import sys


def fetch_all(urls, fetch):
    sys.exit(0)
