"""SpanSet: evidence intervals in seconds (a non-empty list of Spans); scored as a merged set."""

from __future__ import annotations

from typing import Any, Mapping

import pyarrow as pa

from schemas.label_type import LabelType, register_label_type
from schemas.labels.span import SPAN_TYPE, check_interval
from schemas.violation import Violation


def _check(row: Mapping[str, Any]) -> list[Violation]:
    spans = row.get("spans")
    if spans is None:
        return [Violation("spans_missing", "spans", "the task needs evidence spans")]
    if not isinstance(spans, (list, tuple)):
        return [Violation("spans_missing", "spans", f"expected a list, got {type(spans).__name__}")]
    if not spans:
        return [Violation("spans_empty", "spans", "at least one evidence span is needed")]
    out: list[Violation] = []
    for i, span in enumerate(spans):
        out.extend(check_interval(span, row.get("duration"), f"spans[{i}]"))
    return out


SPANSET = register_label_type(
    LabelType(
        name="spanset",
        columns={"spans": pa.list_(SPAN_TYPE)},
        check=_check,
        answer_format="the moments that support the answer, in seconds, as a list of (start, end) pairs",
        answer_example="[(3.20, 8.75), (12.00, 15.40)]",
        needs_duration=True,
        doc="Evidence intervals; overlapping intervals are merged before scoring.",
    )
)
