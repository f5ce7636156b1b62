"""The cleanup of folders student code wrote into: any tree goes, nothing outside it does."""

from __future__ import annotations

import os
import socket
import stat
import tempfile
import traceback
from pathlib import Path

import pytest

from grader import cleanup
from grader.cleanup import mounts, registry, remove_tree

DEPTH = 10_000
NOBODY = 65534


@pytest.fixture
def base(tmp_path):
    """A scratch folder, in memory when possible: 10,000 ``rmdir`` on a disk can take 20 s."""
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK | os.X_OK):
        folder = Path(tempfile.mkdtemp(prefix="grader-cleanup-test-", dir=shm))
    else:
        folder = tmp_path / "base"
        folder.mkdir()
    os.chmod(folder, 0o755)
    yield folder
    remove_tree(folder)


def plant(root: Path, outside: Path, depth: int = DEPTH) -> None:
    """A hostile tree: deeper than PATH_MAX, read-only and unsearchable folders, a FIFO, a
    socket, unreadable files, symlinks out of the tree (built relative to one open folder)."""
    root.mkdir()
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for i in range(depth):
            if i % 2500 == 0:
                os.mkfifo("fifo", dir_fd=fd)
                os.symlink(outside / "keep.txt", "to_file", dir_fd=fd)
                os.symlink(outside, "to_folder", dir_fd=fd)
                os.symlink("/", "to_root", dir_fd=fd)
                os.close(os.open("locked", os.O_WRONLY | os.O_CREAT, 0o000, dir_fd=fd))
                with socket.socket(socket.AF_UNIX) as sock:
                    sock.bind(f"/proc/self/fd/{fd}/sock")
            os.mkdir("d", dir_fd=fd)
            child = os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            if i % 7 == 0:
                os.fchmod(fd, 0o500)  # read-only
            elif i % 11 == 0:
                os.fchmod(fd, 0o000)  # neither readable nor searchable
            elif i % 13 == 0:
                os.fchmod(fd, 0o100)  # searchable only
            os.close(fd)
            fd = child
    finally:
        os.close(fd)


def make_outside(base: Path) -> Path:
    outside = base / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("keep")
    os.chmod(outside, 0o777)
    os.chmod(outside / "keep.txt", 0o666)
    return outside


def assert_only_outside_is_left(base: Path, outside: Path) -> None:
    assert sorted(os.listdir(base)) == ["outside"]
    assert (outside / "keep.txt").read_text() == "keep"
    assert stat.S_IMODE(os.stat(outside).st_mode) == 0o777  # its mode is untouched too


def test_a_deep_hostile_tree_is_removed_and_what_it_points_to_survives(base):
    outside = make_outside(base)
    plant(base / "stage", outside)
    assert remove_tree(base / "stage") == []
    assert_only_outside_is_left(base, outside)


def in_child(work) -> None:
    """Run ``work()`` in a forked child (another uid, another mount namespace...)."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - reports through the pipe and its exit status
        os.close(read)
        try:
            work()
            os._exit(0)
        except BaseException:
            os.write(write, traceback.format_exc().encode()[-4000:])
            os._exit(1)
    os.close(write)
    with os.fdopen(read, "rb") as fh:
        error = fh.read().decode()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, error


@pytest.mark.skipif(os.geteuid() != 0, reason="the test above runs as this user already")
def test_permissions_are_fixed_as_it_goes_without_root(base):
    """Root ignores permissions: as an ordinary user, each folder must be made u+rwx first."""
    outside = make_outside(base)
    os.chown(base, NOBODY, NOBODY)

    def as_nobody() -> None:
        os.setgroups([])
        os.setresgid(NOBODY, NOBODY, NOBODY)
        os.setresuid(NOBODY, NOBODY, NOBODY)
        plant(base / "stage", outside, depth=3000)
        problems = remove_tree(base / "stage")
        assert problems == [], problems

    in_child(as_nobody)
    assert_only_outside_is_left(base, outside)


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting needs root")
def test_mounts_below_are_detached_never_walked(base):
    """A folder bind-mounted below the tree loses nothing: it is unmounted, not emptied."""
    outside = make_outside(base)

    def in_a_mount_namespace() -> None:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        assert libc.unshare(0x00020000) == 0  # CLONE_NEWNS: these mounts die with the child
        assert libc.mount(None, b"/", None, 16384 | (1 << 18), None) == 0  # MS_REC | MS_PRIVATE
        (base / "stage" / "a" / "bound").mkdir(parents=True)
        (base / "stage" / "a" / "tmpfs").mkdir()
        bound, tmpfs = (os.fsencode(base / "stage" / "a" / x) for x in ("bound", "tmpfs"))
        assert libc.mount(os.fsencode(outside), bound, None, 4096, None) == 0  # MS_BIND
        assert libc.mount(b"none", tmpfs, b"tmpfs", 0, None) == 0
        (base / "stage" / "a" / "tmpfs" / "x").write_text("x")
        problems = remove_tree(base / "stage")
        assert problems == [], problems
        mounts = Path("/proc/self/mountinfo").read_text()
        assert str(base / "stage") not in mounts

    in_child(in_a_mount_namespace)
    assert_only_outside_is_left(base, outside)


def test_the_hidden_copy_goes_first_and_is_emptied_if_it_resists(base, monkeypatch, caplog):
    stage = base / "stage"
    (stage / "private" / "hidden").mkdir(parents=True)
    (stage / "private" / "hidden" / "test_secret.py").write_text("the answers")
    (stage / "work-0").mkdir()
    (stage / "work-0" / "student.py").write_text("x")
    order: list[str] = []
    real_unlink = os.unlink

    def unlink(name, *, dir_fd=None):
        order.append(name)
        if name == "test_secret.py":
            raise PermissionError(1, "Operation not permitted")
        return real_unlink(name, dir_fd=dir_fd)

    monkeypatch.setattr(os, "unlink", unlink)
    problems = remove_tree(stage, first=[stage / "private" / "hidden"])
    monkeypatch.undo()

    assert order[0] == "test_secret.py"  # before anything else
    assert (stage / "private" / "hidden" / "test_secret.py").stat().st_size == 0  # emptied
    assert not (stage / "work-0").exists()
    assert problems and "could not remove" in problems[0]
    assert any("test_secret.py" in p for p in problems[1:])
    assert "could not remove" in caplog.text  # logged for the instructor


def test_it_never_raises(base, monkeypatch):
    stage = base / "stage"
    (stage / "sub").mkdir(parents=True)

    def broken(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(os, "scandir", broken)
    problems = remove_tree(stage)
    monkeypatch.undo()
    assert problems and "MemoryError" in " ".join(problems)
    assert remove_tree(base / "missing") == []
    assert remove_tree(base / "missing" / "deeper") == []


def test_a_symlink_or_a_file_given_is_removed_itself(base):
    outside = make_outside(base)
    (base / "link").symlink_to(outside)
    assert remove_tree(base / "link") == []
    (base / "file").write_text("x")
    assert remove_tree(base / "file") == []
    assert_only_outside_is_left(base, outside)


def test_folders_pending_are_removed_when_the_worker_is_stopped(base):
    stage = base / "stage"
    (stage / "private" / "hidden").mkdir(parents=True)
    cleanup.pending(stage, first=[stage / "private" / "hidden"])
    assert cleanup.remove_pending() == []
    assert not stage.exists() and str(stage) not in registry._PENDING


def test_mount_points_are_read_with_their_escapes_undone():
    """``/proc/self/mountinfo`` writes a space in a mount point as ``\\040``."""
    assert mounts._unescape(rb"/stage/a\040b\011c\134d") == b"/stage/a b\tc\\d"
