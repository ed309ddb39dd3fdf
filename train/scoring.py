"""Score completions with the rewards package, one call per task present in the batch.

The trainer never knows a task's reward: it groups rows by `task` and hands each group to
`rewards.score_batch` (or any function with the same signature, e.g. a test's), with the component
weights the config sets for that task (None = the task declaration's weights).
"""

from __future__ import annotations

import math
from typing import Any, Callable, Mapping, Sequence

import torch

# score_fn(task, completions, truths, profile=..., weights=...) -> object with .total and .components
ScoreFn = Callable[..., Any]


def default_score_fn() -> ScoreFn:
    try:
        import rewards
    except ImportError as err:  # the rewards package ships with vrft; only a broken install lacks it
        raise RuntimeError("the `rewards` package is not importable; cannot score completions") from err
    return rewards.score_batch


def score_rows(
    score_fn: ScoreFn,
    tasks: Sequence[str],
    completions: Sequence[str],
    truths: Sequence[Mapping[str, Any]],
    profile: str,
    weights: Mapping[str, Mapping[str, float]],
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """-> ([B] totals, {"component": [B], "task/component": [B]}) with NaN where a row lacks the component."""
    B = len(completions)
    total = torch.full((B,), math.nan)
    components: dict[str, torch.Tensor] = {}
    by_task: dict[str, list[int]] = {}
    for i, task in enumerate(tasks):
        by_task.setdefault(task, []).append(i)
    for task, rows in by_task.items():
        scores = score_fn(
            task, [completions[i] for i in rows], [truths[i] for i in rows],
            profile=profile, weights=weights.get(task),
        )
        idx = torch.tensor(rows)
        total[idx] = torch.tensor([float(x) for x in scores.total])
        for name, values in scores.components.items():
            vals = torch.tensor([float(x) for x in values])
            for key in (name, f"{task}/{name}"):
                components.setdefault(key, torch.full((B,), math.nan))[idx] = vals
    if torch.isnan(total).any():
        raise RuntimeError("the reward function returned NaN or skipped rows")
    return total, components
