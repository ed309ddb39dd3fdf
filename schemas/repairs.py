"""The repair policy on labels: what is repaired rather than rejected, as pure functions on a row.

Ingestion (`pipelines.normalize`) applies it to every record before the task's checks, and the default
reward profile applies it to a truth it is asked to score (`vrft rewards score`), so a truth that profile
scores is one ingestion would have written. Which columns hold intervals is read from the Arrow types the
label types declare, so a new label type with spans is repaired without a change here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Mapping

import pyarrow as pa

from schemas.label_type import label_types
from schemas.labels.span import SPAN_TYPE
from schemas.violation import is_number

SPAN_END_CLIPPED = "span_end_clipped"
SPAN_START_CLIPPED = "span_start_clipped"


@dataclass(frozen=True)
class RepairPolicy:
    """What is repaired rather than rejected (DESIGN: every repair is recorded on the row and counted)."""

    # A span end past the video's duration, or a start below 0, by at most this much is clipped.
    clip_tolerance_s: float = 2.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def clip_interval(iv: Any, duration: Any, tolerance: float) -> tuple[Any, list[str]]:
    """Clip an end past the duration / a start below 0 when within the tolerance; else leave it."""
    if not isinstance(iv, Mapping) or not (is_number(iv.get("start")) and is_number(iv.get("end"))):
        return iv, []
    start, end = float(iv["start"]), float(iv["end"])
    repairs = []
    # Only a span that overlaps the video is worth saving: one that starts after the end (or ends
    # before 0) is rejected for that, not clipped into an inverted span.
    if -tolerance <= start < 0 < end:
        start, repairs = 0.0, repairs + [SPAN_START_CLIPPED]
    if is_number(duration) and duration > 0 and start < duration < end <= duration + tolerance:
        end, repairs = float(duration), repairs + [SPAN_END_CLIPPED]
    return {"start": start, "end": end}, repairs


def _interval_columns() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(single-interval columns, interval-list columns) of the registered label types."""
    types = {name: typ for lt in label_types() for name, typ in lt.columns.items()}
    return (tuple(n for n, t in types.items() if t == SPAN_TYPE),
            tuple(n for n, t in types.items() if t == pa.list_(SPAN_TYPE)))


def repair_labels(row: Mapping[str, Any], policy: RepairPolicy) -> tuple[dict[str, Any], list[str]]:
    """`row` with every interval clipped by the policy against its `duration`, and the repairs made (one
    code per clipped end, in column order). Columns the row does not hold stay absent."""
    out, repairs = dict(row), []
    single, many = _interval_columns()
    for col in single:
        if col in out:
            out[col], done = clip_interval(out[col], out.get("duration"), policy.clip_tolerance_s)
            repairs += done
    for col in many:
        if isinstance(out.get(col), (list, tuple)):
            clipped = [clip_interval(iv, out.get("duration"), policy.clip_tolerance_s) for iv in out[col]]
            out[col] = [iv for iv, _ in clipped]
            repairs += [r for _, done in clipped for r in done]
    return out, repairs
