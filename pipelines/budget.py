"""Estimates before heavy work: a count of rows or bytes compared with a stated limit, refused above it
unless the user asks (the message names the option). One number in a recipe or one file handed to a
command must not turn into hours of work, a full disk or memory the machine does not have.
"""

from __future__ import annotations


class OverBudget(ValueError):
    """The estimated work is above its stated limit (a user decision: the message says how to allow it)."""


def human(n: float, unit: str) -> str:
    """1234567 bytes -> '1.2 MB'; 2500000 records -> '2.5 M records'."""
    for size, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= size:
            return f"{n / size:.1f} {prefix}{'B' if unit == 'bytes' else ' ' + unit}"
    return f"{int(n)} {'B' if unit == 'bytes' else unit}"


def check(what: str, estimate: float, limit: float, unit: str, allow: str) -> None:
    """Refuse `estimate` above `limit` (`allow`: how the user says go ahead, e.g. "--allow-large")."""
    if estimate > limit:
        raise OverBudget(
            f"{what}: about {human(estimate, unit)}, above the limit of {human(limit, unit)}; "
            f"pass {allow} if you mean it"
        )
