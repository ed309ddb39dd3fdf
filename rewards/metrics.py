"""Evaluation metrics by label type, and the trivial floors, through the same components as rewards.

`evaluate(task, predictions, truths)` takes one prediction dict per sample (answer tag -> parsed
prediction or None, as a profile's `read` returns) and returns, per answer part, the label type's
metrics (spans: mIoU, R@0.3/0.5/0.7; tracks: average overlap, success rate at 0.5/0.7; choices:
accuracy) plus the share of unparseable answers (percent; other units: `metric_units`).
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from rewards.component import component_for
from schemas import get_task

Truth = Mapping[str, Any]
UNPARSED = "unparsed"  # the metric every part has: the share (percent) of answers that could not be read


def evaluate(
    task: str, predictions: Sequence[Mapping[str, Any]], truths: Sequence[Truth], include_given: bool = False
) -> dict[str, dict[str, float]]:
    decl = get_task(task)
    out: dict[str, dict[str, float]] = {}
    for part in decl.parts:
        preds = [p.get(part.tag) for p in predictions]
        values = component_for(part.label).metrics(preds, truths, part, include_given)
        values[UNPARSED] = 100.0 * sum(p is None for p in preds) / max(1, len(preds))
        out[part.component] = values
    return out


def floor_predictions(task: str, truths: Sequence[Truth]) -> list[dict[str, Any]] | None:
    """The trivial prediction (whole video, copy of the first box) of every part whose label type
    has one; parts without one (multiple choice) are left out. None when no part has a floor."""
    parts = [(p, component_for(p.label)) for p in get_task(task).parts if component_for(p.label).floor]
    return [{p.tag: c.floor(t, p) for p, c in parts} for t in truths] if parts else None


def floor_names(task: str) -> dict[str, str]:
    """Answer component -> the name of its floor ("whole-video", "copy-first-box")."""
    decl = get_task(task)
    return {p.component: component_for(p.label).floor_name for p in decl.parts if component_for(p.label).floor}


def metric_units(task: str) -> dict[str, str]:
    """Answer component -> the unit of its metrics ("%" or "fraction"); UNPARSED is always "%"."""
    return {p.component: component_for(p.label).metric_unit for p in get_task(task).parts}
