"""The nbgrader course without nbgrader: notebooks, the check, import, and the kernel side.

The end-to-end run with real nbgrader is ``test_nbgrader_e2e.py`` (tox env ``nbgrader``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from grader import catalogue as catalogue_mod
from grader.cli import main
from grader.nbcourse import cell, guard
from grader.nbcourse.course import CODE_STUB, KERNEL_ARGUMENTS, build, check, config_text
from grader.nbcourse.notebooks import MARK, CourseError, grader_cells, read_notebook
from grader.nbcourse.submissions import import_class, parse_timestamp
from grader.sandbox.config import MAX_MODULE_BYTES

ROOT = Path(__file__).resolve().parents[2]
CAT = catalogue_mod.load()
CONCEPTS = CAT.get("concepts")
WAIT = CAT.get("wait_for_all")


def _ids(nb):
    return [c["id"] for c in nb["cells"]]


def test_build_writes_one_notebook_per_exercise_that_check_accepts(tmp_path):
    course = tmp_path / "course"
    assert main(["nbgrader", "build", str(course)]) == 0
    src = course / "source" / "concurrency"
    assert sorted(p.stem for p in src.glob("*.ipynb")) == sorted(e.stem for e in CAT)
    assert check(course) == []
    assert main(["nbgrader", "check", str(course)]) == 0
    config = (course / "nbgrader_config.py").read_text()
    assert "c.ClearSolutions.code_stub" in config
    assert f"c.Execute.extra_arguments = {list(KERNEL_ARGUMENTS)!r}" in config
    compile(config_text(), "nbgrader_config.py", "exec")
    c = SimpleNamespace(Execute=SimpleNamespace(), ClearSolutions=SimpleNamespace(),
                        CourseDirectory=SimpleNamespace(), Exchange=SimpleNamespace())  # fmt: skip
    # traitlets runs the config with __file__ set to its path
    exec(config_text(), {"get_config": lambda: c, "__file__": str(course / "nbgrader_config.py")})
    tag = c.Execute.skip_cells_with_tag  # never the default, nor guessable
    assert tag.startswith("grader-never-skip-") and len(tag) > 40
    assert c.Exchange.root == str(course / "exchange")  # not system-wide
    # A config that does not start kernels with the guard: check says so.
    for edit in ("extra_arguments", "ignore_cwd", "skip_cells_with_tag", "Exchange.root"):
        (course / "nbgrader_config.py").write_text(config.replace(edit, "x"))
        assert any(p.startswith("nbgrader_config.py: ") for p in check(course)), edit


@pytest.mark.parametrize("ex", list(CAT), ids=lambda e: e.slug)
def test_notebook_cells_follow_the_catalogue_and_the_files(tmp_path, ex):
    built = build(tmp_path, only=[ex.slug])
    nb = read_notebook(built.notebooks[0])
    categories = [c for c, p in ex.points.items() if p]
    assert _ids(nb) == ["instructions", "setup", "code", "visible", *categories]
    by_id = {c["id"]: c for c in nb["cells"]}
    stub = (ROOT / "exercises" / ex.module_file).read_text()
    solution = (ROOT / "solutions" / ex.module_file).read_text()
    code = by_id["code"]["source"]
    assert code.startswith(stub.rstrip() + "\n### BEGIN SOLUTION\n")
    assert solution.rstrip() in code and code.endswith("### END SOLUTION")
    assert by_id["code"]["metadata"]["nbgrader"]["solution"] is True
    for category in categories:
        meta = by_id[category]["metadata"]["nbgrader"]
        assert meta["grade"] and meta["locked"] and meta["points"] == ex.points[category]
        assert by_id[category]["source"].splitlines()[1:] == [
            "### BEGIN HIDDEN TESTS",
            "from grader.nbcourse.cell import score",
            "",
            f'score("{ex.slug}", "{category}")',
            "### END HIDDEN TESTS",
        ]
    assert [(cid, src) for cid, src, _ in grader_cells(ex)] == [
        (cid, by_id[cid]["source"]) for cid in ("setup", "visible", *categories)
    ]  # one home for the grader's cell texts
    for cid in ("setup", "visible", *categories):
        assert guard.exercise_of(by_id[cid]["source"]) == ex.slug
        assert cell.cell_timeout(by_id[cid]) >= (ex.exercise_timeout if cid != "setup" else 1)
    assert guard.exercise_of(code) is None
    assert cell.cell_timeout({"source": by_id["code"]["source"]}) == cell.DEFAULT_CELL_TIMEOUT
    assert ex.title in by_id["instructions"]["source"] and "Generated" in str(nb)
    assert all(h in by_id["instructions"]["source"] for h in ex.hints)


def test_check_reports_edits_and_changed_sources(tmp_path):
    root = tmp_path / "root"
    for folder, name in (("exercises", CONCEPTS.module_file), ("solutions", CONCEPTS.module_file),
                         ("tests", CONCEPTS.test_file)):  # fmt: skip
        (root / folder).mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / folder / name, root / folder / name)
    course = tmp_path / "course"
    build(course, only=["concepts"], root=root)
    assert check(course, root=root) == []
    path = course / "source" / "concurrency" / f"{CONCEPTS.stem}.ipynb"
    nb = json.loads(path.read_text())
    nb["cells"][3]["source"] = ["print('edited')\n"]
    path.write_text(json.dumps(nb))
    assert any("'visible' differs" in p for p in check(course, root=root))
    build(course, only=["concepts"], root=root)
    (root / "solutions" / CONCEPTS.module_file).write_text("ANSWERS = {}\n")
    problems = check(course, root=root)
    assert any("other files" in p for p in problems) and any("'code'" in p for p in problems)
    assert main(["nbgrader", "check", str(tmp_path / "nowhere")]) == 2  # not a course
    (course / "source" / "concurrency" / "99_unknown.ipynb").write_text(path.read_text())
    assert any("99_unknown" in p for p in check(course, root=root))


def test_inside_the_course_its_folder_is_dot_and_the_name_says_so(tmp_path, monkeypatch, capsys):
    course = tmp_path / "course"
    build(course, only=["concepts"])
    shutil.copytree(course / "source", course / "release")  # stands in for generate_assignment
    (tmp_path / "class" / "ada").mkdir(parents=True)
    monkeypatch.chdir(course)  # the README's `cd course`
    capsys.readouterr()
    assert main(["nbgrader", "check", "course"]) == 2
    assert main(["nbgrader", "import", "../class", "course", "concurrency"]) == 2
    err = capsys.readouterr().err
    assert err.count("not an nbgrader course") == 2 and err.count("give `.`") == 2
    assert "out of date" not in err and "generate_assignment" not in err
    assert main(["nbgrader", "check", "."]) == 0
    assert main(["nbgrader", "import", "../class", ".", "concurrency"]) == 0
    assert "in " + str(course) in capsys.readouterr().out


def test_import_writes_the_instructors_read_only_cells(tmp_path):
    """generate_assignment clears the hidden tests after the gradebook took the cells'
    checksums: the import writes the source's cells, so autograde has nothing to warn of."""
    course = tmp_path / "course"
    build(course, only=["concepts"])
    shutil.copytree(course / "source", course / "release")
    released = course / "release" / "concurrency" / f"{CONCEPTS.stem}.ipynb"
    nb = json.loads(released.read_text())
    for c in nb["cells"]:  # what ClearHiddenTests leaves
        text = "".join(c["source"])
        if "### BEGIN HIDDEN TESTS" in text:
            c["source"] = text.split("### BEGIN HIDDEN TESTS")[0]
    released.write_text(json.dumps(nb))
    (tmp_path / "class" / "ada").mkdir(parents=True)
    code = "ANSWERS = {}\n"
    (tmp_path / "class" / "ada" / CONCEPTS.module_file).write_text(code)
    import_class(tmp_path / "class", course, "concurrency")
    got = read_notebook(course / "submitted" / "ada" / "concurrency" / released.name)
    source = read_notebook(course / "source" / "concurrency" / released.name)
    want = [code if c["id"] == "code" else c["source"] for c in source["cells"]]
    assert [c["source"] for c in got["cells"]] == want
    hidden = sum(1 for cid, _src, meta in grader_cells(CONCEPTS) if meta.get("grade"))
    assert sum("### BEGIN HIDDEN TESTS" in c["source"] for c in got["cells"]) == hidden >= 1
    # Without the instructor's notebook, the released cells are written (nbgrader restores).
    (course / "source" / "concurrency" / released.name).unlink()
    import_class(tmp_path / "class", course, "concurrency")
    got = read_notebook(course / "submitted" / "ada" / "concurrency" / released.name)
    assert not any("### BEGIN HIDDEN TESTS" in c["source"] for c in got["cells"])


def test_build_leaves_a_foreign_config_alone_and_rejects_unknown_slugs(tmp_path, capsys):
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\n")
    assert main(["nbgrader", "build", str(tmp_path), "--only", "concepts"]) == 0
    assert (tmp_path / "nbgrader_config.py").read_text() == "c = get_config()\n"
    assert "left alone" in capsys.readouterr().out
    assert main(["nbgrader", "build", str(tmp_path), "--only", "nope"]) == 2


def test_import_turns_modules_into_submitted_notebooks(tmp_path):
    course = tmp_path / "course"
    klass = tmp_path / "class"
    assert main(["nbgrader", "import", str(klass), str(course), "concurrency"]) == 2  # no release
    build(course, only=["wait_for_all", "concepts"])
    shutil.copytree(course / "source", course / "release")  # stands in for generate_assignment
    with pytest.raises(CourseError, match="no student folders"):
        klass.mkdir()
        import_class(klass, course, "concurrency")
    (klass / "ada" / "exercises").mkdir(parents=True)  # a repository
    (klass / "bob").mkdir()  # a folder of modules, without wait_for_all
    code = (ROOT / "solutions" / CONCEPTS.module_file).read_text()
    (klass / "ada" / "exercises" / CONCEPTS.module_file).write_text(code)
    (klass / "ada" / "exercises" / WAIT.module_file).write_text("x = 1\n")
    (klass / "bob" / CONCEPTS.module_file).write_text(code)
    assert main(["nbgrader", "import", str(klass), str(course), "concurrency"]) == 0
    sub = course / "submitted"
    assert sorted(p.name for p in (sub / "ada" / "concurrency").glob("*.ipynb")) == [
        f"{WAIT.stem}.ipynb", f"{CONCEPTS.stem}.ipynb"
    ]  # fmt: skip
    assert [p.name for p in (sub / "bob" / "concurrency").glob("*.ipynb")] == [
        f"{CONCEPTS.stem}.ipynb"
    ]
    nb = read_notebook(sub / "bob" / "concurrency" / f"{CONCEPTS.stem}.ipynb")
    assert [c["source"] for c in nb["cells"] if c["id"] == "code"] == [code]
    stamp = (sub / "bob" / "concurrency" / "timestamp.txt").read_text()
    assert stamp.strip().endswith("UTC") and stamp[:2] == "20"


SECRET = "TOP-SECRET-7f3a"  # in every file outside the students' folders


@pytest.fixture
def hostile_class(tmp_path, monkeypatch):
    """A course (concepts, wait_for_all) and a class: two honest students, one per attack."""
    monkeypatch.setenv("GRADER_TEST_SECRET", SECRET)  # /proc/self/environ holds it
    course = tmp_path / "course"
    build(course, only=["wait_for_all", "concepts"])
    shutil.copytree(course / "source", course / "release")  # stands in for generate_assignment
    outside = tmp_path / "outside"  # the instructor's files: solutions, hidden tests
    (outside / "exercises").mkdir(parents=True)
    secret_module = f"ANSWERS = {{}}  # {SECRET}\n"
    (outside / "solution.py").write_text(secret_module)
    (outside / "exercises" / CONCEPTS.module_file).write_text(secret_module)
    (outside / CONCEPTS.module_file).write_text(secret_module)
    klass = tmp_path / "class"
    code = (ROOT / "solutions" / CONCEPTS.module_file).read_text()
    honest = {"ada": code, "zed": code}
    for name, text in honest.items():
        (klass / name / "exercises").mkdir(parents=True)
        (klass / name / "exercises" / CONCEPTS.module_file).write_text(text)
    ex = {}
    for name in ("to_solution", "to_environ", "fifo", "big", "latin", "dir_link", "stamp"):
        ex[name] = klass / name / "exercises"
        ex[name].mkdir(parents=True)
    (ex["to_solution"] / CONCEPTS.module_file).symlink_to(outside / "solution.py")
    (ex["to_solution"] / WAIT.module_file).write_text("x = 1\n")  # still imported
    (ex["to_environ"] / CONCEPTS.module_file).symlink_to("/proc/self/environ")
    os.mkfifo(ex["fifo"] / CONCEPTS.module_file)
    (ex["big"] / CONCEPTS.module_file).write_text("#" * (MAX_MODULE_BYTES + 1))
    (ex["latin"] / CONCEPTS.module_file).write_bytes(b"ANSWERS = {'q1': '\xe9'}\n")
    ex["dir_link"].rmdir()
    ex["dir_link"].symlink_to(outside / "exercises")  # a symlinked exercises/ folder
    (klass / "linked").symlink_to(outside)  # a symlinked student folder
    (ex["stamp"] / CONCEPTS.module_file).write_text(code)
    (ex["stamp"] / "timestamp.txt").write_text("1999-01-01 00:00:00.000000 UTC\n")
    (klass / "stamp" / "timestamp.txt").write_text("garbage")
    for bad in ("has space", "bad\x1b[31mname", "..sneaky", "star*"):
        (klass / bad / "exercises").mkdir(parents=True)
        (klass / bad / "exercises" / CONCEPTS.module_file).write_text(code)
    return SimpleNamespace(course=course, klass=klass, outside=outside, code=code)


def _written(course):
    return {p: p.read_bytes() for p in (course / "submitted").rglob("*") if p.is_file()}


def test_import_reads_only_regular_files_inside_each_students_folder(hostile_class, capsys):
    course, klass = hostile_class.course, hostile_class.klass
    when = dt.datetime(2026, 12, 3, 17, 0, 0, 123456, tzinfo=dt.UTC)
    got = import_class(klass, course, "concurrency", when=when)
    # Nothing from outside the students' folders, nor the environment, was written anywhere.
    written = _written(course)
    assert written and not [p for p, data in written.items() if SECRET.encode() in data]
    reasons = {s: " | ".join(r) for s, r in got.reasons.items()}
    assert "symbolic link" in reasons["to_solution"] and "symbolic link" in reasons["to_environ"]
    assert "not a regular file" in reasons["fifo"]
    assert f"larger than {MAX_MODULE_BYTES} bytes" in reasons["big"]
    assert "not UTF-8" in reasons["latin"]
    assert "exercises/ is a symbolic link" in reasons["dir_link"]
    assert "student folder is a symbolic link" in reasons["linked"]
    assert set(reasons) == {"to_solution", "to_environ", "fifo", "big", "latin", "dir_link",
                            "linked"}  # fmt: skip
    # Refused: left unsubmitted (no notebook), as a missing module; the rest is imported.
    nb = f"{CONCEPTS.stem}.ipynb"
    for student in reasons:
        assert not (course / "submitted" / student / "concurrency" / nb).exists()
    assert [p.name for p in got.notebooks["to_solution"]] == [f"{WAIT.stem}.ipynb"]
    for student in ("ada", "zed", "stamp"):
        sub = read_notebook(course / "submitted" / student / "concurrency" / nb)
        assert [c["source"] for c in sub["cells"] if c["id"] == "code"] == [hostile_class.code]
    # Folder names that are no student id: skipped, named safely; nothing written for them.
    assert sorted(got.skipped) == ["bad\x1b[31mname", "has space", "star*"]
    assert sorted(p.name for p in (course / "submitted").iterdir()) == sorted(
        {"ada", "zed", "stamp", "to_solution", "to_environ", "fifo", "big", "latin",
         "dir_link", "linked"}
    )  # fmt: skip
    # timestamp.txt: the import's, in nbgrader's format, never the student's.
    for student in got.notebooks:
        stamp = (course / "submitted" / student / "concurrency" / "timestamp.txt").read_text()
        assert stamp == "2026-12-03 17:00:00.123456 UTC\n"
        assert dt.datetime.strptime(stamp.strip(), "%Y-%m-%d %H:%M:%S.%f %Z")
    # The command: one line per student, each reason in plain words, escapes made harmless.
    assert main(["nbgrader", "import", str(klass), str(course), "concurrency"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "skipped bad\\x1b[31mname/" in out
    assert "fifo: 0 notebooks" in out and "is not a regular file" in out
    assert "left unsubmitted" in out


def test_import_replaces_links_in_submitted_and_refuses_bad_names(hostile_class, tmp_path):
    course, klass, outside = hostile_class.course, hostile_class.klass, hostile_class.outside
    target = course / "submitted" / "ada" / "concurrency" / f"{CONCEPTS.stem}.ipynb"
    target.parent.mkdir(parents=True)
    target.symlink_to(outside / "solution.py")  # left by something else: replaced, not followed
    (target.parent / "timestamp.txt").symlink_to(outside / CONCEPTS.module_file)
    (course / "submitted" / "zed").symlink_to(outside)  # a linked submission folder: refused
    got = import_class(klass, course, "concurrency")
    assert not target.is_symlink() and read_notebook(target)["cells"]
    assert (outside / "solution.py").read_text().startswith("ANSWERS = {}")
    assert SECRET in (outside / CONCEPTS.module_file).read_text()
    assert "zed" not in got.notebooks and "submitted/zed is a symbolic link" in " ".join(
        got.reasons["zed"]
    )
    assert not (outside / "concurrency").exists()
    for bad in ("../x", "a/b", "", "x\ny"):
        with pytest.raises(CourseError, match="not an assignment name"):
            import_class(klass, course, bad)
    with pytest.raises(CourseError, match="ISO 8601"):
        parse_timestamp("yesterday")
    assert parse_timestamp("2026-12-03T18:00+01:00") == dt.datetime(2026, 12, 3, 17, tzinfo=dt.UTC)
    assert main(["nbgrader", "import", str(klass), str(course), "x", "--timestamp", "no"]) == 2
    with pytest.raises(CourseError, match="cannot list the class folder"):
        import_class(tmp_path / "nowhere", course, "concurrency")


# --- the kernel side ----------------------------------------------------------------------------


class FakeShell:
    def __init__(self, history=()):
        self.handlers = []
        self.events = SimpleNamespace(
            register=lambda name, fn: self.handlers.append(fn),
            unregister=lambda name, fn: self.handlers.remove(fn),
        )
        self.input_transformers_cleanup = []
        self.history_manager = SimpleNamespace(input_hist_raw=["", *history])

    def run(self, source, cell_id=None):
        for fn in list(self.handlers):
            fn(SimpleNamespace(raw_cell=source, cell_id=cell_id))


@pytest.fixture
def shell(monkeypatch):
    monkeypatch.setattr(guard, "_recorder", None)
    monkeypatch.setattr(guard, "_guard", None)
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    return FakeShell()


def _sources(slug):
    return {cid: source for cid, source, _ in grader_cells(CAT.get(slug))}


STUDENT_CELLS = [  # none of these may run in the kernel while autograding
    "import os\nos._exit(1)",
    f"# {MARK} Setup\nimport grader.nbcourse.cell as g\ng.score = lambda *a: 10.0",
    f"# {MARK}\nprint(open('solutions/16_concepts.py').read())",
    "%%bash\ncat /proc/self/environ",
    "%%capture out\nimport grader.nbcourse.cell as g",
    "!cat solutions/16_concepts.py",
    "%run -i evil.py",
    "get_ipython().system('cat /etc/passwd')",
    "x = 1  # " + _sources("concepts")["setup"],  # a grader cell's text inside student code
    _sources("concepts")["setup"] + "\nimport os",  # a grader cell with a line added
    " " + _sources("concepts")["setup"],  # leading whitespace: not the grader's text
    _sources("concepts")["correctness"].replace("score(", "score (", 1),
]


def test_the_guard_runs_only_the_grader_cells_of_the_notebooks_exercise(shell, monkeypatch):
    assert guard.install(shell) is None  # not autograding: students' own Jupyter
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    g = guard.install(shell, at_start=True)
    assert shell.input_transformers_cleanup[0] is g
    concepts, amdahl = _sources("concepts"), _sources("amdahl")

    def runs(text):
        return "".join(g(text.splitlines(keepends=True)))

    refusal = "".join(guard._lines(guard._REFUSAL))
    # Before the setup cell: only a setup cell runs; a student cell runs nothing.
    for text in STUDENT_CELLS:
        assert runs(text) in ("", refusal), text
    assert runs(concepts["correctness"]) == refusal  # a grade cell: an error, never skipped
    assert runs(concepts["setup"] + "  \n\n") == concepts["setup"] + "\n"  # trailing space
    cell.begin("concepts", shell)
    assert g.slug == "concepts"
    for cid, source in concepts.items():  # the grader's own text runs, not the cell's
        assert runs(source.replace("\n", "   \r\n") + "\n\n") == source + "\n", cid
    for text in STUDENT_CELLS:
        assert runs(text) in ("", refusal), text
    assert runs(STUDENT_CELLS[0]) == "" and runs(STUDENT_CELLS[1]) == refusal
    # A cell that calls the cells' API is the grader's or a forgery: never silently blank.
    forged = "from grader.nbcourse.cell import score\nscore('concepts', 'correctness')"
    assert runs(forged) == refusal
    # Another exercise's grader cells fail (a grade cell that is not run would get full marks).
    for source in amdahl.values():
        assert runs(source) == refusal
    with pytest.raises(guard.CellRefused):
        g.lock("amdahl")
    with pytest.raises(guard.CellRefused, match="not run while autograding"):
        exec(refusal, {})


def test_the_guard_comes_before_ipythons_magics_and_shell_escapes(shell, monkeypatch):
    """With IPython's own transformer manager: student magics become nothing at all."""
    inputtransformer2 = pytest.importorskip("IPython.core.inputtransformer2")
    manager = inputtransformer2.TransformerManager()
    shell.input_transformers_cleanup = manager.cleanup_transforms
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    guard.install(shell, at_start=True)
    cell.begin("concepts", shell)
    for text in STUDENT_CELLS:
        assert "get_ipython" not in manager.transform_cell(text), text
        assert "cat " not in manager.transform_cell(text), text
    setup = _sources("concepts")["setup"]
    assert manager.transform_cell(setup) == setup + "\n"
    guard.install(shell)  # installed again (the setup cell): still first, once
    assert manager.cleanup_transforms.count(guard.active()) == 1
    assert manager.cleanup_transforms[0] is guard.active()


def test_without_the_guard_at_kernel_start_nothing_is_graded(shell, monkeypatch, capsys):
    monkeypatch.setattr(cell, "_shell", lambda: shell)
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    with pytest.raises(cell.GraderFault, match="guard"):
        cell.begin("concepts", shell)  # the config lacks the kernel's arguments
    assert shell.input_transformers_cleanup  # guarded from now on all the same
    shell.run("ANSWERS = {}", "code")
    with pytest.raises(cell.GraderFault, match="guard"):
        cell.score("concepts", "correctness")
    guard._guard.at_start = True
    guard._guard.slug = "amdahl"
    with pytest.raises(cell.GraderFault, match="set up for 'amdahl'"):
        cell.score("concepts", "correctness")


def test_the_recorder_keeps_student_cells_in_order_and_skips_grader_cells(shell, monkeypatch):
    concepts = _sources("concepts")
    cell.begin("concepts", shell)
    shell.run("a = 1", "c1")
    shell.run(concepts["visible"], "c2")
    shell.run("b = 2", "c3")
    shell.run("a = 3", "c1")  # run again (students' own Jupyter): replaces, keeps its place
    shell.run("   ", "c4")
    shell.run("c = 4")  # no cell id
    shell.run("d = 5", "#2")  # an id like the keys of cells without one
    released = concepts["correctness"].split("\n")[0]  # as generate_assignment leaves it
    shell.run(released, "correctness")
    marked = f"# {MARK}\nimport grader.nbcourse.cell"  # the marker proves nothing: recorded
    shell.run(marked, "setup")
    assert cell.student_cells("concepts", shell) == ["a = 3", "b = 2", "c = 4", "d = 5", marked]
    assert shell.input_transformers_cleanup == []  # not autograding: cells run as usual
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    guard.install(shell, at_start=True)
    cell.begin("concepts", shell)  # run again: a fresh recorder, one handler
    assert len(shell.handlers) == 1
    # While autograding each cell is kept in the order it ran: an id chosen by a student
    # (another cell's, a grader cell's) replaces nothing and hides nothing.
    for text, cid in (("a = 1", "code"), ("b = 2", "code"), ("c = 3", "setup"),
                      (concepts["correctness"], "code"), (marked, "visible")):  # fmt: skip
        shell.run(text, cid)
    assert cell.student_cells("concepts", shell) == ["a = 1", "b = 2", "c = 3", marked]
    cell.begin("concepts", None)  # outside IPython: nothing to hook


def test_without_the_setup_cell_the_history_is_used(shell):
    setup = _sources("concepts")["setup"]
    shell.history_manager.input_hist_raw += ["x = 1", setup, "", f"# {MARK}\ny = 2"]
    assert cell.student_cells("concepts", shell) == ["x = 1", f"# {MARK}\ny = 2"]
    assert cell.student_cells("concepts", None) == []  # not in IPython


def test_module_source_keeps_python_and_comments_out_ipython_lines():
    assert cell.module_source([]) == ""
    assert cell.module_source(["x = '%d'\n", "y = 2"]) == "x = '%d'\n\ny = 2\n"
    src = cell.module_source(["%time f()\nz = 1\n!ls"])
    assert "# (IPython-only line left out) %time f()" in src and "\nz = 1\n" in src
    assert "def (" in cell.module_source(["def (:"])  # a plain syntax error is kept
    assert cell.cell_timeout({"source": "print(1)"}) == cell.DEFAULT_CELL_TIMEOUT
    assert cell.cell_timeout({"source": ['score("nope", "x")']}) == cell.DEFAULT_CELL_TIMEOUT
    hidden = _sources("amdahl")["correctness"]
    assert cell.cell_timeout({"source": hidden}) > cell.DEFAULT_CELL_TIMEOUT
    assert cell.cell_timeout({"source": f'# {MARK}\nscore("amdahl", "x")'}) == 60  # not exact
    assert cell.cell_timeout(object()) == cell.DEFAULT_CELL_TIMEOUT


def test_score_grades_the_recorded_module_with_the_hidden_tests(shell, monkeypatch, capsys):
    monkeypatch.setattr(cell, "_shell", lambda: shell)
    monkeypatch.setenv(cell.SEED_ENV, "7")
    assert cell.score("concepts", "correctness") == 0.0  # nothing recorded yet
    assert "no code was found" in capsys.readouterr().out
    cell.begin("concepts", shell)
    solution = (ROOT / "solutions" / CONCEPTS.module_file).read_text()
    shell.run(solution.replace('"q5": "c"', '"q5": "a"'), "code")
    got = cell.score("concepts", "correctness")
    out = capsys.readouterr()
    assert got == 9.0 and out.err == ""
    assert "concepts · correctness: 9 of 10 points" in out.out and "✗" in out.out
    assert "race seed 7" in out.out
    assert cell.score("concepts", "timing") == 0.0  # cached run; no tests there
    import sys

    with cell._quiet():
        print("noise", file=sys.stderr)
    assert "noise" in capsys.readouterr().out


def test_score_raises_a_grader_fault_when_the_tests_cannot_run(shell, monkeypatch, capsys):
    monkeypatch.setattr(cell, "_shell", lambda: shell)
    monkeypatch.setattr(cell, "run_code", lambda ex, code: SimpleNamespace(error="boom"))
    cell.begin("concepts", shell)
    shell.run("ANSWERS = {}", "code")
    with pytest.raises(cell.GraderFault, match="boom"):
        cell.score("concepts", "correctness")


def test_an_ungradable_category_is_awarded(shell, monkeypatch, capsys):
    from grader.grading.runner import HiddenTestRun
    from grader.results import TestInfo, TestResult

    info = TestInfo(
        nodeid="t::a", exercise="wait_for_all", category="timing", weight=1.0, title="parallel"
    )
    run = HiddenTestRun(WAIT, results=[TestResult(info, "ungradable", "one CPU")])
    monkeypatch.setattr(cell, "_shell", lambda: shell)
    monkeypatch.setattr(cell, "run_code", lambda ex, code: run)
    cell.begin("wait_for_all", shell)
    shell.run("x = 1", "code")
    assert cell.score("wait_for_all", "timing") == WAIT.points["timing"]
    assert "awarded in full" in capsys.readouterr().out


def test_visible_tests_run_on_the_recorded_module(shell, monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(cell, "_shell", lambda: shell)
    monkeypatch.chdir(tmp_path)
    cell.begin("concepts", shell)
    with pytest.raises(AssertionError, match="No code"):
        cell.run_visible_tests("concepts")
    shell.run((ROOT / "solutions" / CONCEPTS.module_file).read_text(), "code")
    cell.run_visible_tests("concepts")
    assert "passed" in capsys.readouterr().out
    shell.run("ANSWERS = {}", "code")
    with pytest.raises(AssertionError, match="visible tests failed"):
        cell.run_visible_tests("concepts")
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    cell.run_visible_tests("concepts")
    assert "do not run while autograding" in capsys.readouterr().out
    monkeypatch.delenv("NBGRADER_EXECUTION")
    monkeypatch.setattr(cell, "_visible_tests", lambda ex: None)
    cell.run_visible_tests("concepts")
    assert "not next to this notebook" in capsys.readouterr().out


def test_released_code_cell_is_the_stub_plus_one_comment():
    """What generate_assignment leaves (checked for real in the e2e test): the stub."""
    assert CODE_STUB.startswith("# ") and "\n" not in CODE_STUB
