"""Isolation for grading untrusted code: a private copy, limits, namespaces, another uid.

* :mod:`~grader.sandbox.config` - resource limits, isolation settings, the scrubbed environment;
* :mod:`~grader.sandbox.probe` - which namespaces this machine allows;
* :mod:`~grader.sandbox.stage` - one run's private folder and its launcher command;
* :mod:`~grader.sandbox.mounts` - what the child sees of the file system;
* :mod:`~grader.sandbox.uids` - the pool of sandbox uids, and killing every process of one;
* :mod:`~grader.sandbox.launcher` - the privileged launcher and supervisor in the child;
* :mod:`~grader.sandbox.inside` - the point of no return before student code runs;
* :mod:`~grader.sandbox.syscalls` - the Linux calls all of it makes.

The sandbox knows nothing of exercises or hidden tests: its caller names the
files to keep private, the folders to cover and the modules to preload. See
the README's "Security model" and docs/sandbox.md.
"""
