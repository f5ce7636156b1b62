"""What a sandboxed run may do: resource limits, isolation settings, the scrubbed environment.

Values come from the caller (the grader reads them from the catalogue's
``[defaults]``, their one home); this module holds no defaults of its own.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace

from grader import layout

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


@dataclass(frozen=True)
class ResourceLimits:
    """Per-process resource limits of the child (``0`` leaves one unset)."""

    address_space_mb: int
    cpu_seconds: int
    processes: int  # processes and threads of the sandbox uid
    file_size_mb: int
    open_files: int
    tmp_size_mb: int  # the private /tmp, /var/tmp and /dev/shm
    work_size_mb: int  # the child's copy of the module (its cwd and HOME): a tmpfs

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    @classmethod
    def from_mapping(cls, values: dict) -> ResourceLimits:
        missing = [name for name in cls.names() if name not in values]
        if missing:
            raise ValueError(f"no value for the sandbox limits {missing}")
        return cls(**{name: int(values[name]) for name in cls.names()})


@dataclass(frozen=True)
class Isolation:
    """How to isolate a child: ``enabled=False`` runs pytest directly (benchmarks only)."""

    enabled: bool
    limits: ResourceLimits
    uid_base: int  # as root, student code runs as one of uid_base .. uid_base + uid_count - 1
    uid_count: int

    @classmethod
    def from_settings(cls, settings: dict, **overrides) -> Isolation:
        """From ``{"isolate", "uid_base", "uid_count", "limits": {NAME: N}}``; ``overrides``
        may set ``enabled`` or any limit by name."""
        limits = ResourceLimits.from_mapping(settings.get("limits", {}))
        changed = {k: int(v) for k, v in overrides.items() if k in ResourceLimits.names()}
        return cls(
            enabled=bool(overrides.get("enabled", settings["isolate"])),
            limits=replace(limits, **changed),
            uid_base=int(settings["uid_base"]),
            uid_count=int(settings["uid_count"]),
        )


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
        PYTHONPATH=str(layout.PACK),
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONIOENCODING="utf-8",
        PYTEST_DISABLE_PLUGIN_AUTOLOAD="1",  # only our plugin and pytest-timeout
    )
    if seed is not None:
        env["PYTHONHASHSEED"] = str(seed % 2**32)  # same submission, same set order
    return env
