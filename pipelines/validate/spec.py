"""What validation expects, as plain data: check tables and their expectations (no GX import here).

A check table is a pandas frame built from the shards (nested columns flattened into scalar check
columns) plus the expectations GX runs on it. `key` names the column that identifies a failing row
(`sample_id`, or `video_key` for the videos table), so a failure names its rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence


@dataclass(frozen=True)
class Expect:
    type: str                     # a GX expectation class name, e.g. "ExpectColumnValuesToBeBetween"
    kwargs: Mapping[str, Any]
    about: str = ""               # for people: what a failure means

    @property
    def column(self) -> str:
        k = self.kwargs
        if "column" in k:
            return k["column"]
        if "column_A" in k:
            return f"{k['column_A']} vs {k['column_B']}"
        return ",".join(k.get("column_list", ()))


@dataclass(frozen=True)
class CheckTable:
    name: str                     # GX asset and suite name, e.g. "temporal_grounding.span"
    expectations: tuple[Expect, ...]
    key: str = "sample_id"
    doc: str = field(default="", compare=False)


def not_null(column: str, about: str = "") -> Expect:
    return Expect("ExpectColumnValuesToNotBeNull", {"column": column}, about or f"{column} is present")


def between(column: str, low: float | None = None, high: float | None = None, strict_low: bool = False, about: str = "") -> Expect:
    kwargs: dict[str, Any] = {"column": column, "min_value": low, "max_value": high}
    if strict_low:
        kwargs["strict_min"] = True
    return Expect("ExpectColumnValuesToBeBetween", kwargs, about)


def greater(a: str, b: str, or_equal: bool = False, about: str = "") -> Expect:
    """a > b (or >=) wherever both are present; missing values are the not-null checks' business."""
    return Expect(
        "ExpectColumnPairValuesAToBeGreaterThanB",
        {"column_A": a, "column_B": b, "or_equal": or_equal, "ignore_row_if": "either_value_is_missing"},
        about or f"{a} {'>=' if or_equal else '>'} {b}",
    )


def equal(a: str, b: str, about: str = "") -> Expect:
    return Expect(
        "ExpectColumnPairValuesToBeEqual", {"column_A": a, "column_B": b, "ignore_row_if": "either_value_is_missing"},
        about or f"{a} == {b}",
    )


def in_set(column: str, values: Sequence[Any], about: str = "") -> Expect:
    return Expect("ExpectColumnValuesToBeInSet", {"column": column, "value_set": list(values)}, about)


def unique(column: str, about: str = "") -> Expect:
    return Expect("ExpectColumnValuesToBeUnique", {"column": column}, about or f"{column} is unique")
