"""The one base of every error that is the user's input, not a bug: the command line catches
it (``InputError``) and exits 2 with its message, without importing the modules that raise
it (a small command starts fast)."""

from __future__ import annotations


class InputError(Exception):
    """A bad input (a scenario, a run folder, an option, an output path): exit 2."""
