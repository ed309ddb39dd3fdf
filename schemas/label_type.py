"""Label types: the vocabulary of ground truth every stage understands (see DESIGN.md).

A label type is data: the `samples` columns it owns, a check that returns every violation of a row,
and how an answer of this type is written (for prompts). Reward components and metrics for a label
type live in `rewards/` and are keyed by its name, so `schemas` imports nothing of ours.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import pyarrow as pa

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
    doc: str = field(default="", compare=False)


_LABEL_TYPES: dict[str, LabelType] = {}


def register_label_type(label: LabelType) -> LabelType:
    if label.name in _LABEL_TYPES:
        raise ValueError(f"label type {label.name!r} is already registered")
    for other in _LABEL_TYPES.values():
        for col, typ in label.columns.items():
            if col in other.columns and other.columns[col] != typ:
                raise ValueError(
                    f"label type {label.name!r}: column {col!r} clashes with {other.name!r} ({typ} vs {other.columns[col]})"
                )
    _LABEL_TYPES[label.name] = label
    return label


def label_type(name: str) -> LabelType:
    try:
        return _LABEL_TYPES[name]
    except KeyError:
        raise KeyError(f"unknown label type {name!r}; known: {sorted(_LABEL_TYPES)}") from None


def label_types() -> tuple[LabelType, ...]:
    return tuple(_LABEL_TYPES.values())


def unregister_label_type(name: str) -> None:
    """For tests that declare a label type of their own."""
    _LABEL_TYPES.pop(name, None)
