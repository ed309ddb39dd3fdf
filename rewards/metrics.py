"""Evaluation metrics by label type, and the trivial floors, through the same components as rewards.

`evaluate(task, predictions, truths)` takes one prediction dict per sample (answer tag -> parsed
prediction or None, as a profile's `read` returns) and returns, per answer part, the label type's
metrics (spans: mIoU, R@0.3/0.5/0.7; tracks: average overlap, success rate at 0.5/0.7; choices:
accuracy) plus the share of unparseable answers.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from rewards.component import component_for
from schemas import get_task

Truth = Mapping[str, Any]


def evaluate(
    task: str, predictions: Sequence[Mapping[str, Any]], truths: Sequence[Truth], include_given: bool = False
) -> dict[str, dict[str, float]]:
    decl = get_task(task)
    out: dict[str, dict[str, float]] = {}
    for part in decl.parts:
        preds = [p.get(part.tag) for p in predictions]
        values = component_for(part.label).metrics(preds, truths, part, include_given)
        values["unparsed"] = 100.0 * sum(p is None for p in preds) / max(1, len(preds))
        out[part.component] = values
    return out


def floor_predictions(task: str, truths: Sequence[Truth]) -> list[dict[str, Any]] | None:
    """The trivial prediction of every part (whole video, copy of the first box), or None when some
    part has no floor (e.g. multiple choice)."""
    decl = get_task(task)
    comps = [(part, component_for(part.label)) for part in decl.parts]
    if any(c.floor is None for _, c in comps):
        parts = [(p, c) for p, c in comps if c.floor is not None]
        if not parts:
            return None
        comps = parts
    return [{part.tag: comp.floor(t, part) for part, comp in comps} for t in truths]


def floor_names(task: str) -> dict[str, str]:
    """Answer component -> the name of its floor ("whole-video", "copy-first-box")."""
    decl = get_task(task)
    return {p.component: component_for(p.label).floor_name for p in decl.parts if component_for(p.label).floor}
