"""The mount plan: what the child sees of the file system, computed by the parent.

Deny by default: every top-level folder that is not the operating system's is
covered, but for what the child needs (the interpreter, its libraries, the
grader package, the stage); ``/dev`` keeps a few devices; the checkout and the
caller's secret folders are covered. The launcher applies the plan as root.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
from collections.abc import Iterable
from pathlib import Path

from grader import layout
from grader.sandbox.config import DEV_LINKS, DEVICES, MQUEUE, PRIVATE_TMP, SYSTEM_FOLDERS


def _under(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def needed_paths(python: str) -> set[Path]:
    """What the child must still see: the interpreter, its libraries, the grader package."""
    paths = {
        Path(p).resolve()
        for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(python))
    }
    paths.add(Path(os.path.realpath(python)).parent.parent)  # another interpreter's prefix
    paths |= link_folders(python)
    paths.add(layout.PACKAGE)
    for entry in sys.path:
        p = Path(entry or ".").resolve()
        if not p.is_dir() or _under(p, layout.PACKAGE):
            continue
        if _under(p, layout.PACK) and not any(
            _under(p, Path(x).resolve()) for x in (sys.prefix, sys.base_prefix)
        ):
            continue  # the checkout itself is hidden; its venvs are not
        paths.add(p)
    return paths


def link_folders(path: str, max_links: int = 40) -> set[Path]:
    """The folders of each link on the way from ``path`` to the file it names.

    The child follows the same links: a venv's ``python`` that links to
    ``~/.local/bin/python3.12`` (uv), itself a link into the real prefix, needs
    ``~/.local/bin`` visible too, or the interpreter is not found.
    """
    found: set[Path] = set()
    hop = Path(os.path.abspath(path))
    for _ in range(max_links):
        found.add(Path(os.path.realpath(hop.parent)))
        try:
            target = Path(os.readlink(hop))
        except OSError:  # not a link (or gone): the end of the chain
            break
        hop = Path(os.path.normpath(hop.parent / target))
    return found


def _first_closed_ancestor(path: Path) -> Path | None:
    """The outermost ancestor that other users cannot enter (e.g. ``/root`` at 0700)."""
    for ancestor in reversed(path.parents):
        if ancestor == Path("/"):
            continue
        try:
            if not os.stat(ancestor).st_mode & stat.S_IXOTH:
                return ancestor
        except OSError:
            return None
    return None


def closed_ancestors(paths: set[Path]) -> dict[Path, set[Path]]:
    """The folders other users cannot enter on the way to ``paths``, each with what it holds."""
    found: dict[Path, set[Path]] = {}
    for path in paths:
        closed = _first_closed_ancestor(path)
        if closed is not None:
            found.setdefault(closed, set()).add(path)
    return found


def mount_plan(
    stage_root: Path,
    python: str,
    submission: Path | None = None,
    *,
    same_user: bool = False,
    secrets: Iterable[Path] = (),
) -> list[dict]:
    """The mounts that hide hidden material and expose only what the child needs.

    ``same_user``: student code keeps the grader's uid (not root), so file
    permissions protect nothing of the user's: their home folder disappears
    too, but for what the child needs. ``secrets``: folders the caller wants
    covered even where they would otherwise stay in view.
    """
    needed = needed_paths(python)
    stage = stage_root.resolve()
    overmounts = closed_ancestors(needed)
    for top in _non_system_folders():
        # Deny by default: /home, /root, /opt, /srv, /mnt and the like, where other
        # copies of the pack (or other students' work) may be, readable or not.
        overmounts.setdefault(top, set())
    if os.path.isdir("/dev") and not os.path.islink("/dev"):
        devices = {Path(d) for d in (*DEVICES, MQUEUE) if os.path.exists(d)}
        overmounts.setdefault(Path("/dev"), set()).update(devices)
    if (layout.PACK / "pyproject.toml").exists() and (layout.PACK / "grader").is_dir():
        # A checkout: solutions/, .git, build trees and the rest disappear.
        overmounts.setdefault(layout.PACK, set())
    home = Path(os.path.expanduser("~")).resolve()
    if same_user and home.is_dir() and home != Path("/"):
        overmounts.setdefault(home, set())
    # Mount points of the private /tmp-like folders inside a covered one (/var/tmp, /run/lock).
    private_tmp = [Path(t) for t in PRIVATE_TMP if os.path.isdir(t)]
    for target, keep in overmounts.items():
        keep.update(p for p in (*needed, stage, *private_tmp) if _under(p, target))
    plan = []
    for target in sorted(overmounts, key=lambda p: len(p.parts)):
        keep = sorted(str(p) for p in overmounts[target] if p != target)
        op = {"op": "overmount", "target": str(target), "keep": keep, "writable": False}
        if target == Path("/dev"):
            op["links"] = DEV_LINKS
        plan.append(op)
    for tmp in PRIVATE_TMP:
        if not os.path.isdir(tmp):
            continue
        kept = {p for p in (*needed, stage) if _under(p, Path(tmp)) and p != Path(tmp)}
        overmounts[Path(tmp)] = kept
        plan.append({"op": "overmount", "target": tmp, "keep": sorted(map(str, kept)),
                     "writable": True})  # fmt: skip
    secrets = [Path(s).resolve() for s in secrets]
    if submission is not None:
        # The original submission (the child has its copy) and, in a class
        # folder, the other students' submissions.
        sub = Path(submission).resolve()
        secrets += [sub, sub.parent]
    for secret in sorted(set(secrets), key=lambda p: len(p.parts)):  # outer folders first
        if (
            secret.is_dir()
            and secret not in (Path("/"), home)
            and not any(_under(p, secret) for p in (*needed, stage))
            and _still_visible(secret, overmounts)
        ):
            plan.append({"op": "hide", "target": str(secret)})
            overmounts[secret] = set()  # what lies below is gone too
    return plan


def _non_system_folders() -> list[Path]:
    """Top-level folders of the file system that are not the operating system's own."""
    found = []
    with contextlib.suppress(OSError):
        for entry in os.scandir("/"):
            if entry.name not in SYSTEM_FOLDERS and entry.is_dir(follow_symlinks=False):
                found.append(Path("/", entry.name))
    return found


def _still_visible(path: Path, overmounts: dict[Path, set[Path]]) -> bool:
    """Whether ``path`` survives the overmounts (it is outside them, or under a kept path)."""
    return all(
        not _under(path, target) or any(_under(path, k) for k in keep if k != target)
        for target, keep in overmounts.items()
    )
