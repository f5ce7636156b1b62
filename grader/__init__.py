"""Concurrency exercise pack: public harness, pytest plugin, CLI and scoring."""

__version__ = "0.1.0"
