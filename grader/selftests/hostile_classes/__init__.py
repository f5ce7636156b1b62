"""Hostile class folders for ``grader batch``: one module per case (``_kit`` holds helpers).

``grader/selftests/test_hostile_classes.py`` builds each case in a fresh class folder,
grades it with :func:`grader.batch.classroom.run_batch` (the ``concepts`` exercise only), and
checks what every case must get: the batch finishes; grades.csv, summary.json and
report.html exist and parse; there is exactly one row per class entry (but the OS
clutter of :data:`grader.batch.inputs.IGNORED`), each carrying the entry's name in
``submitted_as``; nothing is written outside OUT; and what the case's ``EXPECT`` says.

A case module provides:

``build(class_dir: Path) -> None``
    Writes the class entries into ``class_dir`` (it exists and is empty). It may put
    things the entries point to (link targets) in ``class_dir.parent / "outside"``:
    the runner checks that nothing there changes either. Most cases add an honest
    student with :func:`._kit.honest` (a copy of the reference solution).

``EXPECT: dict``, every key optional:
    ``"refused"``: ``{entry name: reason substring}``: the entry's row has status
    ``error`` and a note containing the substring. Names are ``str``, or ``bytes``
    for names that are not UTF-8.
    ``"graded"``: ``{entry name: "full" | "zero"}``: graded, with full marks (honest
    students) or none.
    ``"optional"``: entry names ``build`` may leave out (device files need root).
    ``"absent"``: paths relative to OUT that must not exist afterwards (no student
    folder for an id that is not the entry's own).
    ``"runs"``: how many times to run the batch on the same OUT (default 1); the
    checks apply after each run.
    ``"cli"``: also run ``grader batch`` from the command line (in-process) and check
    it exits 0 and prints every refused entry's name literally (no rich markup).
    ``"check_outputs"``: also call
    :func:`grader.dev.outputs_valid.check_outputs` on OUT (the checks of
    output injection live there).
    ``"limits"``: keyword arguments for :class:`grader.batch.reading.InputBounds`.

``before_run(out_dir: Path, run: int) -> None`` (optional)
    Called before run ``run`` (0, 1, ...): plants what an earlier run, or someone
    with access to OUT, could have left there.
"""
