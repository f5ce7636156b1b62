"""Hostile: skip every test, so it would be 'ungradable' and left out of the maximum."""

from _pytest.outcomes import Skipped


def fetch_all(urls, fetch):
    raise Skipped("this machine cannot measure it")
