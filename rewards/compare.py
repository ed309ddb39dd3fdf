"""Several systems' answers to the same evaluation samples, compared metric by metric, with intervals.

A system is a name and one completion per sample (a model's greedy answers); the task's trivial floor
(whole video, copy of the first box), where its label types have one, joins as the system "floor".
Every metric of every system gets a percentile-bootstrap interval, and each asked pair (A, B) the
interval of B - A computed on the same resampled samples (`rewards.intervals`). A verdict reads that
interval: B beat A when all of it is above zero (below, for the share of unparsed answers), B was
worse when all of it is on the other side, and otherwise the data cannot tell them apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from rewards.intervals import RESAMPLES, Interval, bootstrap
from rewards.metrics import evaluate, floor_names, floor_predictions
from rewards.profiles import get_profile
from schemas import get_task

FLOOR = "floor"
LOWER_IS_BETTER = ("unparsed",)


@dataclass(frozen=True)
class MetricComparison:
    task: str
    n: int
    component: str
    metric: str
    values: dict[str, Interval]                       # system -> value with its interval
    differences: dict[tuple[str, str], Interval]      # (A, B) -> B - A with its interval

    @property
    def primary(self) -> bool:
        """The component's headline metric, its first under the benchmark's names (mIoU; Acc@QA and mIoP
        for NExT-GQA; AO; accuracy)."""
        return self.metric == next(iter(evaluate(self.task, [], [])[self.component]))

    def verdict(self, a: str, b: str) -> str:
        """'beat' | 'worse' | 'no clear difference': B against A, read from the interval of B - A."""
        d = self.differences[(a, b)]
        sign = -1 if self.metric in LOWER_IS_BETTER else 1
        if d.low * sign > 0 and d.high * sign > 0:
            return "beat"
        if d.low * sign < 0 and d.high * sign < 0:
            return "worse"
        return "no clear difference"


def _flat(task: str, preds: Sequence[Mapping[str, Any]], truths: Sequence[Mapping[str, Any]], include_given: bool,
          keep: set[str] | None = None) -> dict[tuple[str, str], float]:
    out = {}
    for comp, values in evaluate(task, preds, truths, include_given).items():
        if keep is None or comp in keep:
            out.update({(comp, m): v for m, v in values.items() if keep is None or m != "unparsed"})
    return out


def compare_task(
    task: str, truths: Sequence[Mapping[str, Any]], completions: Mapping[str, Sequence[str]],
    pairs: Sequence[tuple[str, str]], profile: str = "default", resamples: int = RESAMPLES, seed: int = 0,
) -> list[MetricComparison]:
    """Every metric of `task` for each system in `completions` (one completion per truth, in order) and
    the floor, with intervals, and B - A for each (A, B) in `pairs` (either may be "floor")."""
    prof, decl = get_profile(profile), get_task(task)
    preds = {name: [prof.read(decl, c, t).predictions for c, t in zip(texts, truths)] for name, texts in completions.items()}
    floors = floor_predictions(task, truths)
    keep = {FLOOR: set(floor_names(task))} if floors else {}
    if floors:
        preds[FLOOR] = floors

    def statistic(idx: Sequence[int]) -> dict[tuple, float]:
        sub_truths = [truths[i] for i in idx]
        per = {name: _flat(task, [p[i] for i in idx], sub_truths, prof.include_given, keep.get(name))
               for name, p in preds.items()}
        out = {(name, None, c, m): v for name, values in per.items() for (c, m), v in values.items()}
        for a, b in pairs:
            if a in per and b in per:
                out.update({(a, b, c, m): per[b][(c, m)] - per[a][(c, m)] for (c, m) in per[a] if (c, m) in per[b]})
        return out

    rows: dict[tuple[str, str], MetricComparison] = {}
    for (a, b, comp, metric), interval in bootstrap(len(truths), statistic, resamples=resamples, seed=seed).items():
        row = rows.setdefault((comp, metric), MetricComparison(task, len(truths), comp, metric, {}, {}))
        if b is None:
            row.values[a] = interval
        else:
            row.differences[(a, b)] = interval
    return list(rows.values())
