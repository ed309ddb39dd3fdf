"""What G completions of one sample say about it: reward statistics per component, the share that
succeed, the share the profile cannot read. Pure: strings and a truth in, numbers out.

`vrft label` writes one row of these per sample (train/label/); `vrft mix` filters and weights samples
by them (pipelines/mix/). A completion succeeds when every component named by its task's success rule
(`schemas.Task.success_rule`, declared with the task) reaches its value; it is unparsed when the profile
reads no prediction for at least one of the task's answer tags. Standard deviations are the unbiased
ones (n - 1), as the trainer's group advantages use: a sample whose completions all score alike has
`reward_std` 0, which gives a GRPO group no gradient.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

from rewards.profiles import get_profile
from rewards.scoring import score_batch
from schemas import get_task

Truth = Mapping[str, Any]


def score_completions(
    task: str, completions: Sequence[str], truth: Truth, profile: str = "default",
    weights: Mapping[str, float] | None = None,
) -> list[dict[str, Any]]:
    """One row per completion: every component, `total`, `success` and `unparsed` (bools)."""
    decl, prof = get_task(task), get_profile(profile)
    scores = score_batch(task, completions, [truth] * len(completions), profile, weights)
    rule = decl.success_rule
    rows = []
    for i, text in enumerate(completions):
        row: dict[str, Any] = scores.row(i)
        row["success"] = all(row[c] >= least for c, least in rule.items())
        row["unparsed"] = any(v is None for v in prof.read(decl, text, truth).predictions.values())
        rows.append(row)
    return rows


def _mean(values: Sequence[float]) -> float:
    return math.fsum(values) / len(values)


def _std(values: Sequence[float]) -> float:
    """Unbiased standard deviation; 0 for fewer than two values."""
    if len(values) < 2:
        return 0.0
    m = _mean(values)
    return math.sqrt(math.fsum((v - m) ** 2 for v in values) / (len(values) - 1))


def group_stats(
    task: str, rows: Sequence[Mapping[str, Any]], lengths: Sequence[int], truncated: Sequence[bool],
) -> dict[str, float]:
    """The label of one sample from its scored completions (`score_completions`) and their token counts:
    `reward_mean`/`reward_std` (the weighted total), `<component>_mean`/`_std` for the task's components,
    `success`, `unparsed`, `truncated` (shares) and `completion_length` (mean tokens)."""
    if not rows or not len(rows) == len(lengths) == len(truncated):
        raise ValueError(f"{len(rows)} scored completions, {len(lengths)} lengths, {len(truncated)} truncation flags")
    totals = [float(r["total"]) for r in rows]
    out = {"reward_mean": _mean(totals), "reward_std": _std(totals)}
    for name in get_task(task).components:
        values = [float(r[name]) for r in rows]
        out[f"{name}_mean"], out[f"{name}_std"] = _mean(values), _std(values)
    out["success"] = _mean([float(r["success"]) for r in rows])
    out["unparsed"] = _mean([float(r["unparsed"]) for r in rows])
    out["truncated"] = _mean([float(t) for t in truncated])
    out["completion_length"] = _mean([float(n) for n in lengths])
    return out
