"""Isolation for grading untrusted code: a private copy, limits, namespaces, another uid.

The parent (:mod:`grader.runner`) stages each exercise's run in a fresh
temporary folder::

    STAGE/            0700 (0711 when student code gets its own uid)
      private/        0700 root: the hidden test file, pytest.ini, result files
      work-N/         a copy of the one graded module, owned by the sandbox uid (the child
                      sees it on a size-limited tmpfs; the rest of STAGE read-only)
      cov/            coverage data of the child (only when coverage is measuring)

and starts ``python -m grader.sandbox CONFIG -- python -m pytest ...``. This
launcher (still privileged) enters new network, IPC and mount namespaces
where the OS allows it (as root, inside a user namespace of its own whose
``max_user_namespaces`` it lowers, so that student code can create none),
brings up an isolated loopback, hides the hidden tests, the self-check, the
rest of the checkout, ``/run``, ``/var`` and all of ``/dev`` but a few
devices behind empty mounts, gives the submission private ``/tmp``,
``/var/tmp`` and ``/dev/shm`` and a work folder in memory, sets resource
limits, and forks pytest under a small supervisor (a child subreaper that
kills every descendant, daemonised or not, when pytest ends or the grader
says stop). The pytest plugin collects the hidden tests while still
privileged, writes the plan, then calls :func:`enter_sandbox`: it switches to
the sandbox uid (one per concurrent run, from a locked pool) before any
student code is loaded. Afterwards the parent kills every process of that
uid. Without root, the launcher first becomes root of a new user namespace
(and PID 1 of a PID namespace); the plugin then covers the private folder and
gives up that power for good (:func:`enter_user_sandbox`). See the README's
"Security model".
"""

from __future__ import annotations

import base64
import contextlib
import ctypes
import errno
import fcntl
import functools
import json
import os
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import grader
from grader import cleanup

GRADER_DIR = Path(grader.__file__).resolve().parent
PACKAGE_PARENT = GRADER_DIR.parent
HIDDEN_DIR = GRADER_DIR / "hidden"
STAGE_PREFIX = "grade-"  # the stage folders in the temporary folder: grade-SLUG-XXXX
LAUNCHER_FAILED = 121  # exit status of the launcher when it could not set up the sandbox
MAX_MODULE_BYTES = 2 * 2**20
MAX_COVERAGE_BYTES = 64 * 2**20  # a child's coverage data file the self-check takes back
PRIVATE_TMP = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock")  # each an empty tmpfs for the child
#: Top-level folders the child keeps seeing; every other one is covered (but for what it needs).
#: ``/run`` and ``/var`` are not among them: they hold host sockets (D-Bus, systemd, docker,
#: databases), the grader's uid locks, logs and spools; the child needs none of it.
SYSTEM_FOLDERS = frozenset(
    {"bin", "boot", "dev", "etc", "lib", "lib32", "lib64", "libx32", "proc", "sbin", "sys",
     "tmp", "usr", "lost+found"}
)  # fmt: skip
MQUEUE = "/dev/mqueue"  # POSIX message queues: a fresh instance for the child's IPC namespace
#: All the child keeps of ``/dev`` (as bubblewrap's ``--dev``): no host sockets (``/dev/log``),
#: terminals (``/dev/pts``) or devices of the user's (``/dev/kvm``, ``/dev/dri``, ...).
DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty")
DEV_LINKS = {"/dev/fd": "/proc/self/fd", "/dev/stdin": "/proc/self/fd/0",
             "/dev/stdout": "/proc/self/fd/1", "/dev/stderr": "/proc/self/fd/2"}  # fmt: skip

CLONE_NEWNS = 0x00020000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
PR_SET_CHILD_SUBREAPER, PR_SET_NO_NEW_PRIVS = 36, 38

# --- configuration ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Limits:
    """Per-process resource limits of the child (``0`` leaves one unset)."""

    address_space_mb: int = 4096
    cpu_seconds: int = 300
    processes: int = 512  # processes and threads of the sandbox uid
    file_size_mb: int = 64
    open_files: int = 256
    tmp_size_mb: int = 64  # the private /tmp, /var/tmp and /dev/shm
    work_size_mb: int = 64  # the child's copy of the module (its cwd and HOME): a tmpfs

    @classmethod
    def from_mapping(cls, values: dict) -> Limits:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: int(v) for k, v in values.items() if k in known})


@dataclass(frozen=True)
class Isolation:
    """How to isolate a child: ``enabled=False`` runs pytest directly (benchmarks only)."""

    enabled: bool = True
    limits: Limits = field(default_factory=Limits)
    uid_base: int = 61000
    uid_count: int = 64

    @classmethod
    def from_catalogue(cls, cat=None, **overrides) -> Isolation:
        from grader import catalogue as catalogue_mod

        cat = cat or catalogue_mod.load()
        sandbox = getattr(cat, "sandbox", {}) or {}
        limits = Limits.from_mapping(sandbox.get("limits", {}))
        limit_overrides = {k: v for k, v in overrides.items() if k in Limits.__dataclass_fields__}
        if limit_overrides:
            limits = replace(limits, **{k: int(v) for k, v in limit_overrides.items()})
        return cls(
            enabled=bool(overrides.get("enabled", sandbox.get("isolate", True))),
            limits=limits,
            uid_base=int(sandbox.get("uid_base", 61000)),
            uid_count=int(sandbox.get("uid_count", 64)),
        )


# --- what this machine allows -----------------------------------------------------------------


@dataclass(frozen=True)
class Capabilities:
    root: bool
    netns: bool  # a new network namespace (as root, or in a user namespace)
    userns: bool  # namespaces need a user namespace first (not root)
    mountns: bool  # a new mount namespace (hiding files, private /tmp)
    pidns: bool = False  # not root: a PID namespace with its own /proc
    ipcns: bool = False  # an IPC namespace: System V objects and POSIX queues die with the run
    # Student code cannot create user namespaces (the sandbox owns one whose
    # max_user_namespaces it lowers); as root, the launcher enters that namespace first.
    no_userns: bool = False

    def notices(self) -> list[str]:
        out = []
        if self.mountns and not self.no_userns:
            out.append("student code may create user namespaces here (they cannot be disabled)")
        if self.mountns and not self.ipcns:
            out.append("no IPC namespace here: System V objects of student code outlive the run")
        if not self.netns:
            out.append("network isolation unavailable here: student code can use the network")
        if not self.root and not self.mountns:
            out.append(
                "not running as root, and no user namespaces here: student code runs as this "
                "user, can read the hidden tests and solutions, and can signal the grader "
                "(grade as root, e.g. in a container, for full isolation)"
            )
        elif not self.root and not self.pidns:
            out.append(
                "no PID namespace here: student code runs as this user and can signal the "
                "grader's processes (grade as root, e.g. in a container, for full isolation)"
            )
        elif not self.mountns:
            out.append(
                "mount namespaces unavailable: hidden files are not hidden from student code"
            )
        return out


@functools.cache
def capabilities(python: str = sys.executable) -> Capabilities:
    """Probe once, in a throwaway process, which namespaces this machine allows."""
    root = os.geteuid() == 0
    try:
        out = subprocess.run(
            [python, "-m", "grader.sandbox", "--probe"],
            env=base_env(), capture_output=True, timeout=30, check=False, text=True,
        ).stdout  # fmt: skip
        found = json.loads(out.strip().splitlines()[-1])
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        found = {}
    if root:
        return Capabilities(
            True, bool(found.get("net")), False, bool(found.get("mount")),
            ipcns=bool(found.get("ipc")), no_userns=bool(found.get("rootuser")),
        )  # fmt: skip
    return Capabilities(
        root=False,
        netns=bool(found.get("usernet")),
        userns=bool(found.get("usernet") or found.get("usermount")),
        mountns=bool(found.get("usermount")),
        pidns=bool(found.get("userpid")),
        ipcns=bool(found.get("useripc")),
        no_userns=bool(found.get("usercap")),
    )


def _probe() -> dict:
    root = os.geteuid() == 0
    tries = {
        "net": (CLONE_NEWNET, root),
        "mount": (CLONE_NEWNS, root),
        "usernet": (CLONE_NEWUSER | CLONE_NEWNET, True),
        "usermount": (CLONE_NEWUSER | CLONE_NEWNS, not root),
        "userpid": (CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID, not root),
        "ipc": (CLONE_NEWIPC, root),
        "useripc": (CLONE_NEWUSER | CLONE_NEWIPC, not root),
        # A user namespace whose max_user_namespaces is lowered: none can be made inside.
        "rootuser": (CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC, root),
        "usercap": (CLONE_NEWUSER, not root),
    }
    found = {}
    for name, (flags, wanted) in tries.items():
        if not wanted:
            found[name] = False
            continue
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child reports through its exit status
            try:
                if name == "rootuser":
                    _enter_root_userns(flags & ~CLONE_NEWUSER)
                else:
                    _unshare(flags)
                if flags & CLONE_NEWUSER and name != "rootuser":
                    _map_user(os.getuid(), os.getgid())
                if name in ("rootuser", "usercap"):
                    _limit_user_namespaces(0)
                    with contextlib.suppress(OSError):
                        _unshare(CLONE_NEWUSER)
                        os._exit(1)  # the limit did not hold
                if flags & CLONE_NEWNS:
                    _mount(None, "/", None, MS_REC | MS_PRIVATE)
                    _mount("grader-probe", tempfile.gettempdir(), "tmpfs", MS_NOSUID, "size=4k")
                if flags & CLONE_NEWPID:
                    os._exit(_in_new_pid_namespace(_mount_proc))
                os._exit(0)
            except BaseException:
                os._exit(1)
        _, status = os.waitpid(pid, 0)
        found[name] = os.waitstatus_to_exitcode(status) == 0
    return found


def _in_new_pid_namespace(work) -> int:
    """Run ``work()`` as PID 1 of the namespace just unshared; 0 if it returned."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - reports through its exit status
        try:
            work()
            os._exit(0)
        except BaseException:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def _mount_proc() -> None:
    """A /proc of the new PID namespace: the grader's processes are not in it."""
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)


# --- the environment --------------------------------------------------------------------------

ENV_ALLOWED = ("LANG", "LC_ALL", "LC_CTYPE", "TZ")
ENV_ALLOWED_PREFIXES = ("COVERAGE_", "COV_")  # the self-check measures child processes


def base_env(seed: int | None = None) -> dict[str, str]:
    """A scrubbed environment: an allowlist, plus what the child needs."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k in ENV_ALLOWED or k.startswith(ENV_ALLOWED_PREFIXES)
    }
    env.update(
        PATH="/usr/local/bin:/usr/bin:/bin",
        PYTHONPATH=str(PACKAGE_PARENT),
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONIOENCODING="utf-8",
        PYTEST_DISABLE_PLUGIN_AUTOLOAD="1",  # only our plugin and pytest-timeout
    )
    if seed is not None:
        env["PYTHONHASHSEED"] = str(seed % 2**32)  # same submission, same set order
    return env


# --- the uid pool -----------------------------------------------------------------------------


class UidLease:
    """One sandbox uid, locked for the duration of a run (concurrent graders share the pool)."""

    def __init__(self, base: int, count: int) -> None:
        self._fh = None
        lock_dir = Path("/run/grader-sandbox")
        lock_dir.mkdir(mode=0o700, exist_ok=True)
        st = lock_dir.stat()
        if st.st_uid != 0 or st.st_mode & 0o077:
            raise RuntimeError(f"{lock_dir} must be a root-only directory")
        for uid in range(base, base + count):
            fh = open(lock_dir / f"uid-{uid}.lock", "a")  # noqa: SIM115 - held for the run
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                fh.close()
                continue
            self._fh, self.uid, self.gid = fh, uid, uid
            kill_uid(uid)  # anything a crashed grader left behind
            return
        raise RuntimeError(f"all {count} sandbox uids from {base} are in use")

    def release(self) -> None:
        if self._fh is not None:
            kill_uid(self.uid)
            self._fh.close()
            self._fh = None


def _status_fields(pid: str) -> dict[str, str]:
    fields = {}
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return fields


def processes_of_uid(uid: int) -> list[int]:
    """Live (not zombie) processes whose real, effective or saved uid is ``uid``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = _status_fields(entry)
        except OSError:
            continue
        if fields.get("State", "").startswith(("Z", "X")):
            continue
        if str(uid) in fields.get("Uid", "").split():
            found.append(int(entry))
    return found


def kill_uid(uid: int, rounds: int = 200) -> bool:
    """Stop, then kill, every process of ``uid`` until none is left (a fork bomb included)."""
    for _ in range(rounds):
        pids = processes_of_uid(uid)
        if not pids:
            return True
        for sig in (signal.SIGSTOP, signal.SIGKILL):
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, sig)
        time.sleep(0.005)
    return not processes_of_uid(uid)


# --- staging ----------------------------------------------------------------------------------


def copy_module(submission: Path, module_file: str, dest: Path) -> bool:
    """Copy one regular file (never a symlink, device or huge file) into ``dest``."""
    try:
        fd = os.open(submission / module_file, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return False
    with os.fdopen(fd, "rb") as src:
        st = os.fstat(src.fileno())
        if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_MODULE_BYTES:
            return False
        data = src.read(MAX_MODULE_BYTES + 1)
    (dest / module_file).write_bytes(data)
    return True


class Stage:
    """The private folder of one exercise's run; see the module docstring."""

    def __init__(self, exercise, submission: Path, isolation: Isolation, caps: Capabilities):
        self.exercise, self.submission, self.isolation, self.caps = (
            exercise, Path(submission), isolation, caps,
        )  # fmt: skip
        self.lease: UidLease | None = None
        self.root = Path(tempfile.mkdtemp(prefix=f"{STAGE_PREFIX}{exercise.slug}-"))
        self.private = self.root / "private"
        self.hidden = self.private / "hidden"
        cleanup.pending(self.root, first=[self.hidden])  # should the grader be stopped
        self.cov_dir: Path | None = None
        self.cov_target: Path | None = None
        self._work: Path | None = None
        try:
            self.private.mkdir(mode=0o700)
            self.hidden.mkdir()
            for name in (exercise.test_file, "pytest.ini"):
                shutil.copyfile(HIDDEN_DIR / name, self.hidden / name)
            if isolation.enabled and caps.root:
                self.lease = UidLease(isolation.uid_base, isolation.uid_count)
                os.chmod(self.root, 0o711)
        except BaseException:
            self.close()  # no half-made stage (nor its copy of the hidden tests) is left
            raise

    @property
    def drop(self) -> tuple[int, int] | None:
        """As root: the sandbox uid the child becomes once the hidden tests are collected."""
        return (self.lease.uid, self.lease.gid) if self.lease else None

    @property
    def hide(self) -> Path | None:
        """Not root: the folder the child covers (and locks) once the tests are collected."""
        if self.isolation.enabled and not self.caps.root and self.caps.mountns:
            return self.private
        return None

    def work(self, attempt: int) -> Path:
        """A fresh copy holding only this exercise's module."""
        work = self.root / f"work-{attempt}"
        work.mkdir(mode=0o700)
        self._work = work
        copy_module(self.submission, self.exercise.module_file, work)
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
        plan = mount_plan(self.root, python, self.submission, same_user=not self.caps.root)
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
        return [python, "-P", "-m", "grader.sandbox", json.dumps(config), "--", *cmd]

    def _stage_config(self) -> dict | None:
        """What the launcher needs to put the work folder on a tmpfs (see :func:`_stage_mounts`)."""
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


# --- the mount plan (computed by the parent, applied by the launcher as root) ---------------


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
    paths.add(GRADER_DIR)
    for entry in sys.path:
        p = Path(entry or ".").resolve()
        if not p.is_dir() or _under(p, GRADER_DIR):
            continue
        if _under(p, PACKAGE_PARENT) and not any(
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
    stage_root: Path, python: str, submission: Path | None = None, *, same_user: bool = False
) -> list[dict]:
    """The mounts that hide hidden material and expose only what the child needs.

    ``same_user``: student code keeps the grader's uid (not root), so file
    permissions protect nothing of the user's: their home folder disappears
    too, but for what the child needs.
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
    if (PACKAGE_PARENT / "pyproject.toml").exists() and (PACKAGE_PARENT / "grader").is_dir():
        # A checkout: solutions/, .git, build trees and the rest disappear.
        overmounts.setdefault(PACKAGE_PARENT, set())
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
    secrets = [HIDDEN_DIR, GRADER_DIR / "selftests"]
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


# --- the launcher (runs in the child, privileged, before pytest) -----------------------------

_libc = None


def _c():
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    return _libc


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _unshare(flags: int) -> None:
    if hasattr(os, "unshare"):
        os.unshare(flags)
    else:  # Python 3.11
        _check(_c().unshare(ctypes.c_int(flags)), "unshare")


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str = "") -> None:
    enc = [s.encode() if s is not None else None for s in (source, target, fstype, data)]
    _check(_c().mount(enc[0], enc[1], enc[2], ctypes.c_ulong(flags), enc[3]), f"mount {target}")


def _prctl(option: int, value: int) -> None:
    _check(_c().prctl(option, ctypes.c_ulong(value), 0, 0, 0), "prctl")


def _map_user(uid: int, gid: int, inside: tuple[int, int] | None = None) -> None:
    """Map the user namespace just entered: ``uid``/``gid`` outside are ``inside`` in it."""
    in_uid, in_gid = inside or (uid, gid)
    Path("/proc/self/setgroups").write_text("deny")
    Path("/proc/self/uid_map").write_text(f"{in_uid} {uid} 1")
    Path("/proc/self/gid_map").write_text(f"{in_gid} {gid} 1")


def _identity_map(target: int) -> None:
    """Map every id of this namespace to itself in ``target``'s new user namespace."""
    for name in ("uid_map", "gid_map"):
        lines = Path(f"/proc/self/{name}").read_text().split("\n")
        ranges = [line.split() for line in lines if line.strip()]
        text = "".join(f"{first} {first} {count}\n" for first, _outside, count in ranges)
        fd = os.open(f"/proc/{target}/{name}", os.O_WRONLY)
        try:
            os.write(fd, text.encode())
        finally:
            os.close(fd)


def _enter_root_userns(flags: int) -> None:
    """As root: enter a new user namespace (with ``flags``) in which every id is itself.

    Root keeps its powers, but over the new namespaces only: that lets the
    sandbox lower this namespace's ``max_user_namespaces``, which student code
    (another uid inside) cannot raise again. Only a process outside may write
    such a map (as ``newuidmap`` does): a helper forked first writes it.
    """
    ready_r, ready_w = os.pipe()
    helper = os.fork()
    if helper == 0:  # pragma: no cover - reports through its exit status
        code = 1
        try:
            os.close(ready_w)
            target = os.read(ready_r, 32)
            if target:
                _identity_map(int(target))
                code = 0
        finally:
            os._exit(code)
    os.close(ready_r)
    try:
        _unshare(CLONE_NEWUSER | flags)
        os.write(ready_w, str(os.getpid()).encode())
    finally:
        os.close(ready_w)
        _, status = os.waitpid(helper, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise OSError(errno.EPERM, "could not map the sandbox's user namespace")


def _limit_user_namespaces(count: int) -> None:
    """Allow only ``count`` more user namespaces below the one this process is root of.

    Student code, without that power, can neither create one (``unshare -U``,
    ``clone``) nor raise the limit; as bubblewrap's ``--disable-userns``.
    """
    Path("/proc/sys/user/max_user_namespaces").write_text(str(count))


def _outer_ids() -> tuple[int, int]:
    """The uid and gid that this user namespace's root stands for outside it."""
    ids = []
    for name in ("uid_map", "gid_map"):
        inside, outside, _count = Path(f"/proc/self/{name}").read_text().split()[:3]
        ids.append(int(outside) if inside == "0" else int(inside))
    return ids[0], ids[1]


def _loopback_up() -> None:
    """Bring ``lo`` up in the new network namespace: localhost works, nothing else."""
    siocgifflags, siocsifflags, iff_up = 0x8913, 0x8914, 0x1
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        ifreq = struct.pack("16sH22x", b"lo", 0)
        flags = struct.unpack("16sH22x", fcntl.ioctl(s, siocgifflags, ifreq))[1]
        fcntl.ioctl(s, siocsifflags, struct.pack("16sH22x", b"lo", flags | iff_up))


def _overmount(
    target: str, keep: list[str], writable: bool, tmp_mb: int, links: dict | None = None
) -> None:
    fds = []
    for path in keep:
        fds.append((path, os.open(path, os.O_PATH), os.path.isdir(path)))
    opts = f"mode={'1777' if writable else '0755'},size={tmp_mb if writable else 1}m"
    _mount("grader-sandbox", target, "tmpfs", MS_NOSUID | MS_NODEV, opts)
    for path, fd, is_dir in fds:
        if is_dir:
            os.makedirs(path, mode=0o755, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
            Path(path).touch()
        _mount(f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC)
        os.close(fd)
    for link, dest in (links or {}).items():
        os.symlink(dest, link)
    if not writable:
        _mount(None, target, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)


def _stage_mounts(stage: dict, work_mb: int) -> None:
    """The work folder becomes a tmpfs of ``work_mb`` holding its files; the stage turns read-only.

    All the child may write then lies in memory of bounded size (this folder,
    the private ``/tmp``-like ones) or in the files the parent reads
    (``stage["writable"]``, each kept writable), never on the host's disk.
    The tmpfs exists only in the child's mount namespace and dies with it.
    """
    root, work = stage["root"], stage["work"]
    for path in stage["writable"]:
        if os.path.isdir(path):
            _mount(path, path, None, MS_BIND | MS_REC)
    files = []
    with os.scandir(work) as entries:
        for entry in entries:
            if entry.is_file(follow_symlinks=False):
                st = entry.stat(follow_symlinks=False)
                files.append((entry.name, Path(entry.path).read_bytes(), st.st_mode & 0o777))
    owner = os.stat(work)
    _mount("grader-work", work, "tmpfs", MS_NOSUID | MS_NODEV,
           f"mode=0700,uid={owner.st_uid},gid={owner.st_gid},size={work_mb}m")  # fmt: skip
    for name, data, mode in files:
        path = os.path.join(work, name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chown(path, owner.st_uid, owner.st_gid)
    _mount(root, root, None, MS_BIND | MS_REC)
    _mount(None, root, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
    os.chdir(work)  # the tmpfs, not the folder beneath it


def _cover(target: str) -> None:
    """An empty, read-only folder over ``target``: what was there cannot be reached."""
    _mount("grader-sandbox", target, "tmpfs", MS_NOSUID | MS_NODEV | MS_RDONLY, "mode=0755,size=4k")


def _set_limits(limits: dict, running: int) -> None:
    """``running``: tasks of the child's real uid already counted against RLIMIT_NPROC."""
    import resource

    mb = 2**20
    wanted = {
        resource.RLIMIT_AS: limits["address_space_mb"] * mb,
        resource.RLIMIT_CPU: limits["cpu_seconds"],
        resource.RLIMIT_FSIZE: limits["file_size_mb"] * mb,
        resource.RLIMIT_NOFILE: limits["open_files"],
        resource.RLIMIT_CORE: 0,
    }
    if limits["processes"]:
        # Counted per real uid: exact for a sandbox uid; otherwise on top of what runs now.
        wanted[resource.RLIMIT_NPROC] = limits["processes"] + running
    for which, value in wanted.items():
        if not value and which != resource.RLIMIT_CORE:
            continue
        _soft, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(which, (value, value))


def _tasks_of_uid(uid: int) -> int:
    count = 0
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            with contextlib.suppress(OSError, ValueError):
                fields = _status_fields(pid)
                if fields.get("Uid", "").split()[:1] == [str(uid)]:
                    count += int(fields.get("Threads", "1"))
    return count


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError, IndexError):
                with open(f"/proc/{entry}/stat") as fh:
                    after = fh.read().rsplit(")", 1)[1].split()
                if int(after[1]) == pid:
                    found.append(int(entry))
    return found


def _kill_descendants() -> None:
    """As a child subreaper: kill every child until none is left (orphans come to us)."""
    me = os.getpid()
    while True:
        for pid in _children(me):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return
        except InterruptedError:  # pragma: no cover
            continue


def launch(config: dict, cmd: list[str]) -> int:
    """Enter the sandbox, then run ``cmd`` under a supervisor; returns its exit status."""
    try:
        flags = (CLONE_NEWNET if config["net"] else 0) | (CLONE_NEWNS if config["mounts"] else 0)
        pidns = bool(config.get("pidns")) and config["userns"] and bool(config["mounts"])
        if pidns:
            flags |= CLONE_NEWPID  # pytest becomes PID 1 of a namespace of its own
        if config.get("ipc"):
            flags |= CLONE_NEWIPC  # System V objects and POSIX queues die with the run
        running = 0 if config["per_uid"] else _tasks_of_uid(os.getuid())
        max_userns = config.get("max_userns")
        if config["userns"]:
            # Root of the namespace, so that pytest keeps the power to mount across
            # exec (enter_user_sandbox gives it up, and the real uid back).
            uid, gid = os.getuid(), os.getgid()
            _unshare(CLONE_NEWUSER | flags)
            _map_user(uid, gid, inside=(0, 0) if config["mounts"] else None)
        elif config.get("own_userns"):
            _enter_root_userns(flags)
        else:
            if flags:
                _unshare(flags)
            max_userns = None  # the host's own namespace: not ours to limit
        if max_userns is not None:
            _limit_user_namespaces(max_userns)
        if config["net"]:
            _loopback_up()
        if config["mounts"]:
            _mount(None, "/", None, MS_REC | MS_PRIVATE)
            for op in config["mounts"]:
                if op["op"] == "overmount":
                    _overmount(op["target"], op["keep"], op["writable"],
                               config["limits"]["tmp_size_mb"] or 64, op.get("links"))  # fmt: skip
                else:
                    _cover(op["target"])
            if config.get("ipc") and os.path.isdir(MQUEUE):
                _mount("mqueue", MQUEUE, "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC)
            if config.get("stage"):
                _stage_mounts(config["stage"], config["limits"].get("work_size_mb") or 64)
        _set_limits(config["limits"], running)
        _prctl(PR_SET_CHILD_SUBREAPER, 1)
    except (OSError, KeyError, ValueError) as exc:
        print(f"grader-sandbox: could not set up isolation: {exc}", file=sys.stderr, flush=True)
        return LAUNCHER_FAILED
    child = os.fork()
    if child == 0:  # pragma: no cover - replaced by pytest at once
        try:
            if pidns:
                _mount_proc()
            os.execv(cmd[0], cmd)
        finally:
            os._exit(LAUNCHER_FAILED)

    def stop(signum, frame) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(child, signal.SIGKILL)

    signal.signal(signal.SIGTERM, stop)
    status = None
    while status is None:
        try:
            pid, wait_status = os.waitpid(-1, 0)
        except ChildProcessError:  # pragma: no cover
            break
        except InterruptedError:  # pragma: no cover
            continue
        if pid == child:
            status = wait_status
    _kill_descendants()
    if status is None:  # pragma: no cover
        return LAUNCHER_FAILED
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig not in (signal.SIGKILL, signal.SIGSTOP):
            signal.signal(sig, signal.SIG_DFL)
        os.kill(os.getpid(), sig)
    return os.waitstatus_to_exitcode(status)


# --- inside pytest: the point of no return ----------------------------------------------------


def _preload() -> None:
    """Import what the child still needs from the grader; forget cached hidden source lines."""
    import importlib
    import linecache
    import pkgutil

    import grader.harness as harness

    for info in pkgutil.iter_modules(harness.__path__, "grader.harness."):
        importlib.import_module(info.name)
    for name in ("grader.diagnosis", "grader.records", "grader.tamper", "grader.catalogue"):
        importlib.import_module(name)
    linecache.clearcache()


def _no_new_privileges() -> None:
    with contextlib.suppress(OSError, AttributeError):
        _prctl(PR_SET_NO_NEW_PRIVS, 1)
    os.umask(0o077)


def enter_sandbox(uid: int, gid: int) -> None:
    """As root: become the sandbox uid for good, before any student code is loaded."""
    _preload()
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    if os.getuid() != uid or os.geteuid() != uid:  # pragma: no cover
        raise RuntimeError("could not drop privileges")
    _no_new_privileges()


def enter_user_sandbox(hide: str) -> None:
    """Not root: cover ``hide`` (the hidden tests' copy), then give up the namespace's powers.

    The launcher made this process root of a user namespace, to mount. A new
    user and mount namespace inside it takes those powers away and locks
    every mount made so far: student code can neither unmount the covers nor
    mount anything over them that would reveal what they hide.
    """
    _preload()
    _cover(hide)
    outer, here = _outer_ids(), (os.getuid(), os.getgid())
    _unshare(CLONE_NEWUSER | CLONE_NEWNS)
    _map_user(*here, inside=outer)
    _no_new_privileges()


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv == ["--probe"]:
        print(json.dumps(_probe()))
        return 0
    if len(argv) < 3 or argv[1] != "--":
        print("usage: python -m grader.sandbox CONFIG -- COMMAND...", file=sys.stderr)
        return 2
    return launch(json.loads(argv[0]), argv[2:])


if __name__ == "__main__":
    sys.exit(main())
