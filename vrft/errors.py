"""Errors the command line reports as one line (no traceback)."""


class UserError(Exception):
    """A mistake in the user's input: printed as one line, exit status 2."""
