"""Command-line numbers checked as the config loader checks config values: same limits, same words.

    p.add_argument("--video-timeout", type=number(float, above=0), default=120.0, ...)

A refused value stops argparse with one line naming the option (`argument --video-timeout: must be
positive, got 0.0`), before any work starts.
"""

from __future__ import annotations

import argparse
from typing import Any, Callable

from schemas.config import ConfigError, check


def number(typ: type, **limits: Any) -> Callable[[str], Any]:
    """An argparse `type` reading an int or a float and holding it to `limits` (those of `schemas.config.setting`);
    floats must be finite."""
    def parse(text: str) -> Any:
        try:
            value = typ(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {'an integer' if typ is int else 'a number'}, got {text!r}") from None
        try:
            return check(value, typ, "", **limits)
        except ConfigError as err:
            raise argparse.ArgumentTypeError(err.message) from None

    parse.__name__ = typ.__name__
    return parse
