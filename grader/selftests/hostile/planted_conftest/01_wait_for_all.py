"""Hostile: wrong answers, counting on the planted conftest.py and friends to force passes."""


def fetch_all(urls, fetch):
    return None
