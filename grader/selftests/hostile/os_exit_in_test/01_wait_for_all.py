"""Hostile: os._exit(0) inside the function under test, before any result is written."""

import os


def fetch_all(urls, fetch):
    os._exit(0)
