"""``python -P -m grader.subject --fd N``: the subject's runtime (see :mod:`.main`)."""

from grader.subject.main import main

main()
