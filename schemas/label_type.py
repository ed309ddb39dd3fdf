"""Label types: the vocabulary of ground truth every stage understands (docs/design.md, "Label types").

A label type is data: the `samples` columns it owns, a check that returns every violation of a row,
and how an answer of this type is written (for prompts). Reward components and metrics for a label
type live in `rewards/` and are keyed by its name, so `schemas` imports nothing of ours.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import pyarrow as pa

from schemas.registry import Registry
from schemas.violation import Violation

Row = Mapping[str, Any]


@dataclass(frozen=True)
class LabelType:
    name: str
    columns: Mapping[str, pa.DataType]
    # Every violation of the label in `row` (label columns + `duration`); [] when valid.
    check: Callable[[Row], list[Violation]]
    # How an answer of this type is written; a format string over the prompt context.
    answer_format: str
    answer_example: str
    # Span-like labels are only checkable against the video's duration.
    needs_duration: bool = False
    # Values this label adds to the prompt context (e.g. the options, the given first box).
    prompt_context: Callable[[Row], Mapping[str, Any]] = lambda row: {}
    # The times (seconds) of the frames the label is drawn on, when it is tied to frames (a box track):
    # ingestion then decodes exactly those frames. None: any frame plan will do.
    frame_times: Callable[[Row], Sequence[float] | None] = lambda row: None
    # Stages this label type does without, by requirement name (`schemas.coverage`), with the reason:
    # e.g. {"report plots": "nothing to draw"}. Anything not exempted must be covered at start-up.
    exempt: Mapping[str, str] = field(default_factory=dict)
    doc: str = field(default="", compare=False)


_LABEL_TYPES: Registry[LabelType] = Registry("label type")


def register_label_type(label: LabelType) -> LabelType:
    for other in _LABEL_TYPES.values():
        for col, typ in label.columns.items():
            if col in other.columns and other.columns[col] != typ:
                raise ValueError(
                    f"label type {label.name!r}: column {col!r} clashes with {other.name!r} ({typ} vs {other.columns[col]})"
                )
    return _LABEL_TYPES.add(label.name, label)


label_type = _LABEL_TYPES.get
label_types = _LABEL_TYPES.values
unregister_label_type = _LABEL_TYPES.remove
