"""The two kinds of failure the command line reports as one line instead of a traceback.

They live at the bottom of the package order so that every layer (pipelines, train, ...) can raise
them; `vrft` prints `vrft COMMAND: error: MESSAGE` and exits 2 for a `UserError`, 1 for an
`EnvironmentFailure`. Anything else that escapes a command is a bug in vrft and keeps its traceback.
"""

from __future__ import annotations


class UserError(Exception):
    """A mistake in what the user gave (a file, an option, a config value): exit status 2.

    The message names the file, and the line or row where known, and says what would fix it."""


class EnvironmentFailure(Exception):
    """The machine, not the input, failed (a full disk, a read-only folder, no network): exit status 1."""
