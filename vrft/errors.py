"""Errors the command line reports as one line (no traceback); defined in `schemas.errors` so that every
layer can raise them."""

from schemas.errors import EnvironmentFailure, UserError

__all__ = ["EnvironmentFailure", "UserError"]
