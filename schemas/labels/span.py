"""Span: one interval of the video in seconds, 0 <= start < end <= duration."""

from __future__ import annotations

from typing import Any, Mapping

import pyarrow as pa

from schemas.label_type import LabelType, register_label_type
from schemas.violation import Violation, is_number

SPAN_TYPE = pa.struct([("start", pa.float64()), ("end", pa.float64())])


def check_interval(value: Any, duration: Any, column: str) -> list[Violation]:
    """Violations of one {start, end} interval; shared by Span and SpanSet."""
    if not isinstance(value, Mapping):
        return [Violation("span_missing", column, f"expected {{start, end}}, got {type(value).__name__}")]
    start, end = value.get("start"), value.get("end")
    if not (is_number(start) and is_number(end)):
        return [Violation("span_not_numeric", column, f"start={start!r} end={end!r}")]
    out = []
    if start < 0:
        out.append(Violation("span_negative_start", column, f"start {start} < 0"))
    if start > end:
        out.append(Violation("span_inverted", column, f"start {start} > end {end}"))
    elif start == end:
        out.append(Violation("span_zero_length", column, f"start == end == {start}"))
    if is_number(duration) and duration > 0:
        if start >= duration:
            out.append(Violation("span_starts_after_video", column, f"start {start} >= duration {duration}"))
        elif end > duration:
            out.append(Violation("span_past_end", column, f"end {end} > duration {duration}"))
    return out


def _check(row: Mapping[str, Any]) -> list[Violation]:
    value = row.get("span")
    if value is None:
        return [Violation("span_missing", "span", "the task needs a span")]
    return check_interval(value, row.get("duration"), "span")


SPAN = register_label_type(
    LabelType(
        name="span",
        columns={"span": SPAN_TYPE},
        check=_check,
        answer_format="the start and end time in seconds, with two decimals, written as 'S to E'",
        answer_example="12.50 to 17.80",
        needs_duration=True,
        doc="One interval {start, end} in seconds.",
    )
)
