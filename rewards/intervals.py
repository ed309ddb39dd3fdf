"""Confidence intervals for evaluation metrics: the percentile bootstrap over samples.

Why the bootstrap: the metrics are not all plain means (tracking's success rate pools frames across
tracks, mIoU and recall are on a 0-100 scale, accuracy on letters), so one rule that recomputes the
metric itself on resampled samples covers every metric of every task, present and future, without a
formula per metric. Resampling whole samples keeps a track's frames together.

Why paired: two models evaluated on the same samples differ less by chance than two independent
samples would; a statistic that returns both models' metrics and their difference, computed on the same
resampled indices, gives the interval of the difference, which is what "did B beat A" asks.

Pure: a seeded generator, numbers in, numbers out (the same inputs give the same interval).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Callable, Hashable, Mapping, Sequence

Statistic = Callable[[Sequence[int]], Mapping[Hashable, float]]  # sample indices -> metric key -> value

RESAMPLES = 1000
LEVEL = 0.95
METHOD = f"percentile bootstrap over samples ({RESAMPLES} resamples, {LEVEL:.0%})"


@dataclass(frozen=True)
class Interval:
    value: float   # the statistic on the samples as they are
    low: float
    high: float

    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0


def _quantile(sorted_values: Sequence[float], q: float) -> float:
    """Linear interpolation between order statistics (numpy's default rule)."""
    pos = q * (len(sorted_values) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def bootstrap(n: int, statistic: Statistic, resamples: int = RESAMPLES, level: float = LEVEL,
              seed: int = 0) -> dict[Hashable, Interval]:
    """Percentile interval of every value `statistic` returns, over `resamples` draws of n indices
    with replacement. n = 0 gives no intervals."""
    if n <= 0:
        return {}
    point = dict(statistic(range(n)))
    rng = random.Random(seed)
    draws: dict[Hashable, list[float]] = {k: [] for k in point}
    for _ in range(resamples):
        idx = [rng.randrange(n) for _ in range(n)]
        for k, v in statistic(idx).items():
            draws[k].append(v)
    tail = (1.0 - level) / 2
    out = {}
    for k, v in point.items():
        values = sorted(draws[k])
        out[k] = Interval(v, _quantile(values, tail), _quantile(values, 1.0 - tail))
    return out

