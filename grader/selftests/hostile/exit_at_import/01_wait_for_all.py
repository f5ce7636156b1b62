"""Hostile: exit(0) at import, hoping an exit status of 0 counts as a pass."""

exit(0)
