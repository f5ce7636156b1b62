"""One module per ``grader`` sub-command; each exposes ``register(subparsers)``.

:func:`grader.cli.build_parser` discovers every module here, so adding a
command never means editing a shared file.
"""
