"""The stage of one run: a private folder, the module's copy, the uid lease, the launcher command.

The parent (:mod:`grader.grading.runner`) stages each exercise's run in a fresh
temporary folder::

    STAGE/            0700 (0711 when student code gets its own uid)
      private/        0700 root: the private files (hidden tests), result files
      work-N/         a copy of the one graded module, owned by the sandbox uid (the child
                      sees it on a size-limited tmpfs; the rest of STAGE read-only)
      cov/            coverage data of the child (only when coverage is measuring)

and runs its command under :mod:`grader.sandbox.launcher`.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path

from grader import cleanup
from grader.sandbox.config import (
    MAX_COVERAGE_BYTES,
    MAX_MODULE_BYTES,
    STAGE_PREFIX,
    Isolation,
    base_env,
)
from grader.sandbox.mounts import mount_plan
from grader.sandbox.probe import Capabilities
from grader.sandbox.uids import UidLease, kill_uid


def read_module(folder: Path, module_file: str) -> bytes | None:
    """The bytes of one regular file, or ``None`` (missing, a link, not a file, too large).

    Opened without following links or blocking (a FIFO named like a module
    must not hang the grader).
    """
    try:
        fd = os.open(Path(folder) / module_file, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_MODULE_BYTES:
            return None
        try:
            return fh.read(MAX_MODULE_BYTES + 1)
        except OSError:
            return None


def copy_module(submission: Path, module_file: str, dest: Path) -> bool:
    """Copy one regular file (never a symlink, device or huge file) into ``dest``."""
    data = read_module(submission, module_file)
    if data is None:
        return False
    (dest / module_file).write_bytes(data)
    return True


class Stage:
    """The private folder of one exercise's run; see the module docstring."""

    def __init__(
        self,
        name: str,
        module_file: str,
        submission: Path,
        isolation: Isolation,
        caps: Capabilities,
        *,
        private_files: Iterable[Path],
        secrets: Iterable[Path] = (),
    ) -> None:
        """Stage ``submission/module_file`` for a run called ``name``.

        ``private_files`` are copied into the root-only ``private/hidden``
        folder (the hidden tests); ``secrets`` are folders the child must not
        see (see :func:`~grader.sandbox.mounts.mount_plan`).
        """
        self.module_file, self.submission, self.isolation, self.caps = (
            module_file, Path(submission), isolation, caps,
        )  # fmt: skip
        self.secrets = tuple(secrets)
        self.lease: UidLease | None = None
        self.root = Path(tempfile.mkdtemp(prefix=f"{STAGE_PREFIX}{name}-"))
        self.private = self.root / "private"
        self.hidden = self.private / "hidden"
        cleanup.pending(self.root, first=[self.hidden])  # should the grader be stopped
        self.cov_dir: Path | None = None
        self.cov_target: Path | None = None
        self._work: Path | None = None
        try:
            self.private.mkdir(mode=0o700)
            self.hidden.mkdir()
            for path in private_files:
                shutil.copyfile(path, self.hidden / Path(path).name)
            if isolation.enabled and caps.root:
                self.lease = UidLease(isolation.uid_base, isolation.uid_count)
                os.chmod(self.root, 0o711)
        except BaseException:
            self.close()  # no half-made stage (nor its copy of the hidden tests) is left
            raise

    @property
    def drop(self) -> tuple[int, int] | None:
        """As root: the sandbox uid the subject becomes once its runtime is imported."""
        return (self.lease.uid, self.lease.gid) if self.lease else None

    @property
    def hide(self) -> Path | None:
        """Not root: the folder the subject covers (and locks) once its runtime is imported."""
        if self.isolation.enabled and not self.caps.root and self.caps.mountns:
            return self.private
        return None

    def work(self, attempt: int) -> Path:
        """A fresh copy holding only this exercise's module."""
        work = self.root / f"work-{attempt}"
        work.mkdir(mode=0o700)
        self._work = work
        copy_module(self.submission, self.module_file, work)
        if self.lease:
            for path in (work, *work.iterdir()):
                os.chown(path, self.lease.uid, self.lease.gid)
        return work

    def env(self, seed: int, work: Path) -> dict[str, str]:
        env = base_env(seed)
        env["HOME"] = str(work)
        env["TMPDIR"] = "/tmp"
        env["MALLOC_ARENA_MAX"] = "2"  # glibc arenas would eat the address-space limit
        config = env.get("COVERAGE_PROCESS_CONFIG")
        if config and (self.lease or self.hide):
            env["COVERAGE_PROCESS_CONFIG"] = self._coverage_config(config)
        return env

    def _coverage_config(self, config: str) -> str:
        """Point the child's coverage data at a folder it may write (the checkout is hidden)."""
        try:
            data = json.loads(base64.b64decode(config))
            target = Path(data["data_file"])
        except (ValueError, KeyError, TypeError):
            return config
        if self.cov_dir is None:
            self.cov_dir = self.root / "cov"
            self.cov_dir.mkdir(mode=0o700)
            if self.lease:
                os.chown(self.cov_dir, self.lease.uid, self.lease.gid)
        self.cov_target = target
        data["data_file"] = str(self.cov_dir / target.name)
        return base64.b64encode(json.dumps(data).encode()).decode()

    def wrap(self, cmd: list[str], python: str) -> list[str]:
        """``cmd`` under the launcher (namespaces, mounts, limits, supervisor)."""
        plan = mount_plan(
            self.root, python, self.submission, same_user=not self.caps.root, secrets=self.secrets
        )
        config = {
            "net": self.caps.netns,
            "userns": self.caps.userns,
            "pidns": self.caps.pidns,
            "mounts": plan if self.caps.mountns else [],
            "limits": asdict(self.isolation.limits),
            "per_uid": self.lease is not None,
            "ipc": self.caps.ipcns,
            # As root: a user namespace of the sandbox's own, to forbid new ones in it.
            "own_userns": self.caps.root and self.caps.no_userns and self.caps.mountns,
            # Not root: one more, the nested one enter_user_sandbox makes to lock the covers.
            "max_userns": (1 if self.hide else 0) if self.caps.no_userns else None,
            "stage": self._stage_config() if self.caps.mountns else None,
        }
        return [python, "-P", "-m", "grader.sandbox.launcher", json.dumps(config), "--", *cmd]

    def entered(self, python: str, preload: Iterable[str] = ()) -> list[str]:
        """The prefix of a command that holds nothing secret and enters the sandbox itself
        before it runs (the judge's subject: ``PREFIX + [python, "-P", "-m", MODULE, ...]``),
        through :mod:`grader.sandbox.entry`."""
        config = {
            "drop": list(self.drop) if self.drop else None,
            "hide": str(self.hide) if self.hide else None,
            "preload": list(preload),
            # Without a mount namespace the interpreter may lie where the sandbox uid cannot
            # read (/root): what student code commonly imports is loaded before the drop.
            "common": not self.caps.mountns,
        }
        entry = [python, "-P", "-m", "grader.sandbox.entry", json.dumps(config), "--"]
        return self.wrap(entry, python)

    def _stage_config(self) -> dict | None:
        """What the launcher needs to put the work folder on a tmpfs (``launcher.stage_mounts``)."""
        if self._work is None:
            return None
        writable = [str(self.private), str(self.root / "cov")]  # the parent reads these
        return {"root": str(self.root), "work": str(self._work), "writable": writable}

    def after_attempt(self) -> None:
        if self.lease:
            kill_uid(self.lease.uid)
        if self.cov_dir and self.cov_target:
            for data in self.cov_dir.glob(f"{self.cov_target.name}*"):
                with contextlib.suppress(OSError):
                    st = data.lstat()  # written by the child: a regular file of bounded size only
                    if stat.S_ISREG(st.st_mode) and st.st_size <= MAX_COVERAGE_BYTES:
                        shutil.move(str(data), str(self.cov_target.parent / data.name))

    def close(self) -> list[str]:
        """Kill what is left of the run, remove the stage (the hidden tests' copy first).

        Whatever student code left in it (see :mod:`grader.cleanup`); the uid is
        freed only once its files are gone. Returns what could not be removed
        (also logged for the instructor); the removal itself never raises.
        """
        try:
            if self.lease:
                kill_uid(self.lease.uid)
        finally:
            problems = cleanup.remove_tree(self.root, first=[self.hidden])
            cleanup.done(self.root)
            if self.lease:
                self.lease.release()
        return problems
