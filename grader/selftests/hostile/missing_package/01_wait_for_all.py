"""Hostile: depends on a package that is not installed."""

import no_such_package_hostile_xyz  # noqa: F401


def fetch_all(urls, fetch):
    return None
