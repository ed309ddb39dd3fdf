"""Number reading for answers (the `default` profile). Inputs are length-capped before any regex runs,
and the patterns have no nested quantifiers, so the time per call is bounded whatever the text."""

from __future__ import annotations

import re

# Times: seconds ("12.5"), or clock forms "mm:ss(.f)" / "h:mm:ss(.f)". ASCII digits only.
_TIME = re.compile(r"(?<![0-9.])([0-9]+(?::[0-5][0-9]){0,2}(?:\.[0-9]+)?)")
# Coordinates: signed decimals, so a negative coordinate fails validation instead of losing its sign.
_COORD = re.compile(r"(?<![0-9.])(-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))")
# Brackets, commas and semicolons become spaces: a plain list of numbers then splits in C.
_SEPARATORS = str.maketrans("[](),;", "      ")


def _seconds(token: str) -> float:
    parts = token.split(":")
    value = 0.0
    for p in parts[:-1]:
        value = value * 60 + int(p)
    return value * 60 + float(parts[-1]) if len(parts) > 1 else float(parts[0])


def read_times(text: str, max_chars: int) -> list[float] | None:
    """All times in `text` (seconds), or None when the text is longer than `max_chars`."""
    if len(text) > max_chars:
        return None
    return [_seconds(m) for m in _TIME.findall(text)]


def read_coords(text: str, max_chars: int) -> list[float] | None:
    """All decimal numbers in `text`, signs kept, or None when the text is longer than `max_chars`."""
    if len(text) > max_chars:
        return None
    try:  # the common case, a bare list of numbers: no regex at all
        values = list(map(float, text.translate(_SEPARATORS).split()))
        total = sum(values)
        if total - total == 0:  # all finite (an inf or nan makes this nan)
            return values
    except (ValueError, OverflowError):
        pass
    return [float(m) for m in _COORD.findall(text)]
