"""Remove a folder that untrusted code wrote into, whatever it holds; never raise.

Student code can leave anything in its work folder: a tree deeper than
``PATH_MAX`` or the recursion limit, folders without read or search
permission, read-only folders, symlinks to the grader's own files, FIFOs,
sockets, devices. :func:`shutil.rmtree` fails on some of these (its walk
recurses, and ``ignore_errors`` does not catch a ``RecursionError``) and,
told to ignore errors, silently leaves the rest, including the stage's
root-only copy of the hidden tests.

The public API, used by the sandbox's stage and the batch workers:

- :func:`remove_tree` (:mod:`grader.cleanup.tree`) removes one folder, the part
  that must not survive first; the walk itself is :mod:`grader.cleanup.walk`,
  and what is mounted below is detached by :mod:`grader.cleanup.mounts`.
- :func:`pending`, :func:`done` and :func:`remove_pending`
  (:mod:`grader.cleanup.registry`) note the folders in use, removed when a
  worker is stopped before it could clean up.

Whatever cannot be removed is returned in plain words and logged for the
instructor (the ``grader.cleanup`` logger, :mod:`grader.cleanup.problems`),
never shown to the student.
"""

from grader.cleanup.registry import done, pending, remove_pending
from grader.cleanup.tree import remove_tree

__all__ = ["done", "pending", "remove_pending", "remove_tree"]
