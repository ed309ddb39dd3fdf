"""Evaluation metrics and the trivial floors, through the same components as rewards.

`evaluate(task, predictions, truths)` takes one prediction dict per sample (answer tag -> parsed
prediction or None, as a profile's `read` returns) and returns, per answer component, the metrics of
its label type as the task's benchmark defines them (`rewards.benchmarks`: Charades-STA R1@t and
mIoU; NExT-GQA Acc@QA, Acc@GQA, mIoP, IoP@t, mIoU, IoU@t; GOT-10k AO and SR@t), under the benchmark's
names, plus the share of unparseable answers. Every built-in metric is in percent (`metric_units`).
`floors(task, truths)` gives the trivial floors on the same samples: the trivial predictions (whole
video, copy of the first box) scored by those metrics, chance and the most frequent answer.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from rewards.benchmarks import benchmark_for
from rewards.component import component_for
from schemas import get_task

Truth = Mapping[str, Any]
Values = dict[str, dict[str, float]]   # component -> metric -> value
UNPARSED = "unparsed"  # the metric every part has: the share (percent) of answers that could not be read


def _named(task: str, component: str, values: Mapping[str, float]) -> dict[str, float]:
    """Metric values under the task's benchmark's own names ("accuracy" is NExT-GQA's "Acc@QA")."""
    bench = benchmark_for(task)
    names = bench.names if bench else {}
    return {names.get((component, k), k): v for k, v in values.items()}


def evaluate(
    task: str, predictions: Sequence[Mapping[str, Any]], truths: Sequence[Truth], include_given: bool = False
) -> Values:
    decl, bench = get_task(task), benchmark_for(task)
    out: Values = {}
    for part in decl.parts:
        preds = [p.get(part.tag) for p in predictions]
        values = component_for(part.label).metrics(preds, truths, part, include_given)
        out[part.component] = _named(task, part.component, values)
    for comp, values in (bench.joint(predictions, truths) if bench and bench.joint else {}).items():
        out.setdefault(comp, {}).update(values)
    for part in decl.parts:
        out[part.component][UNPARSED] = 100.0 * sum(p.get(part.tag) is None for p in predictions) / max(1, len(predictions))
    return out


def floors(task: str, truths: Sequence[Truth], include_given: bool = False) -> dict[str, Values]:
    """Floor name -> component -> metric -> value on these truths: each trivial predictor scored by the
    metrics of the parts it predicts, then the floors that follow from the truths alone."""
    out: dict[str, Values] = {}
    for part in get_task(task).parts:
        comp = component_for(part.label)
        if comp.floor is not None:
            values = comp.metrics([comp.floor(t, part) for t in truths], truths, part, include_given)
            out.setdefault(comp.floor_name, {})[part.component] = _named(task, part.component, values)
        for name, values in (comp.prior_floors(truths, part) if comp.prior_floors else {}).items():
            out.setdefault(name, {})[part.component] = _named(task, part.component, values)
    return out


def floor_predictions(task: str, truths: Sequence[Truth]) -> list[dict[str, Any]] | None:
    """The trivial prediction (whole video, copy of the first box) of every part whose label type
    has one; parts without one (multiple choice) are left out. None when no part has a floor."""
    parts = [(p, component_for(p.label)) for p in get_task(task).parts if component_for(p.label).floor]
    return [{p.tag: c.floor(t, p) for p, c in parts} for t in truths] if parts else None


def floor_names(task: str) -> dict[str, str]:
    """Answer component -> the name of its trivial predictor ("whole-video", "copy-first-box")."""
    decl = get_task(task)
    return {p.component: component_for(p.label).floor_name for p in decl.parts if component_for(p.label).floor}


def metric_units(task: str) -> dict[str, str]:
    """Answer component -> the unit of its metrics ("%" for every built-in one); UNPARSED is always "%"."""
    return {p.component: component_for(p.label).metric_unit for p in get_task(task).parts}
