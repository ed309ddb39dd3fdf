"""Rewards of a rollout as tensors: `rewards.score_mixed` scores the mixed-task batch, this lays it out.

The trainer never knows a task's reward: `rewards.score_mixed` groups rows by `task` and hands each group
to `rewards.score_batch` (or any function with the same signature, e.g. a test's), with the component
weights the config sets for that task (None = the task declaration's weights).
"""

from __future__ import annotations

import math
from typing import Any, Callable, Mapping, Sequence

import torch

import rewards
from schemas import check_coverage

# score_fn(task, completions, truths, profile=..., weights=...) -> object with .total and .components
ScoreFn = Callable[..., Any]


def default_score_fn() -> ScoreFn:
    """`rewards.score_batch`, once every declared task is known to be scorable (checked at trainer start,
    before the model loads, rather than at the first score)."""
    check_coverage()
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
    rows = rewards.score_mixed(tasks, completions, truths, profile, weights, score=score_fn)
    B = len(rows)
    total = torch.tensor([r["total"] for r in rows], dtype=torch.float32)
    components: dict[str, torch.Tensor] = {}
    for i, (task, row) in enumerate(zip(tasks, rows)):
        for name, value in row.items():
            if name == "total":
                continue
            for key in (name, f"{task}/{name}"):
                components.setdefault(key, torch.full((B,), math.nan))[i] = value
    if torch.isnan(total).any():
        raise RuntimeError("the reward function returned NaN")
    return total, components
