"""A reason a record breaks its task's contract; pipelines use `code` as the reject reason."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Violation:
    code: str      # snake_case, stable: counted by reason in manifests and dead letters
    column: str    # the offending column, e.g. "span" or "boxes[3]"
    message: str   # for people

    def __str__(self) -> str:
        return f"{self.code} ({self.column}): {self.message}"


def is_number(value: object) -> bool:
    """True for a finite int/float (bool excluded): what a label coordinate must be."""
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and value == value
        and value not in (float("inf"), float("-inf"))
    )
