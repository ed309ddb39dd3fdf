"""Thin adapters to other trainers' reward contracts.

- TRL: `trl_reward(profile)` returns f(prompts, completions, **columns) -> list[float]; the dataset
  must carry `reward_model` (verl-style, as vrft's training shards do) or `ground_truth`; one function
  per component is available through `trl_component_rewards` for TRL's per-function logging.
- verl: `compute_score(data_source, solution_str, ground_truth, extra_info)` -> {"score": total, ...}.

Both give every task the same keys: every component any declared task has (`component_names`), None
where the row's task lacks it. That is "not applicable" as both expect it: TRL leaves None out of a
reward function's mean, verl's validation metrics drop None, and verl's reward loop, which takes a
batch's extra-info keys from its first row, finds every key in every row of a mixed-task batch.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Mapping, Sequence

from rewards.scoring import score_mixed
from schemas import tasks


def component_names() -> tuple[str, ...]:
    """Every component of every declared task, in declaration order (read at call time: a task
    registered later counts)."""
    return tuple(dict.fromkeys(c for t in tasks() for c in t.components))


def _truth(value: Any) -> dict[str, Any]:
    if isinstance(value, Mapping) and "ground_truth" in value:  # a reward_model struct
        value = value["ground_truth"]
    return json.loads(value) if isinstance(value, (str, bytes)) else dict(value)


def _text(completion: Any) -> str:
    """A plain string, or TRL's conversational form: the last message's content."""
    if isinstance(completion, list) and completion and isinstance(completion[-1], Mapping):
        return str(completion[-1].get("content", ""))
    return completion if isinstance(completion, str) else ""


def _score_rows(completions: Sequence[Any], truths: Sequence[dict[str, Any]], profile: str) -> list[dict[str, float]]:
    return score_mixed([t["task"] for t in truths], [_text(c) for c in completions], truths, profile)


def _columns_truths(columns: Mapping[str, Any]) -> list[dict[str, Any]]:
    source = columns.get("reward_model", columns.get("ground_truth"))
    if source is None:
        raise KeyError("the dataset needs a 'reward_model' or 'ground_truth' column for vrft rewards")
    return [_truth(v) for v in source]


def trl_reward(profile: str = "default") -> Callable[..., list[float]]:
    def reward(prompts: Sequence[Any], completions: Sequence[Any], **columns: Any) -> list[float]:
        return [r["total"] for r in _score_rows(completions, _columns_truths(columns), profile)]

    reward.__name__ = f"vrft_{profile.replace('-', '_')}"
    return reward


def trl_component_rewards(components: Sequence[str], profile: str = "default") -> list[Callable[..., list[float | None]]]:
    """One TRL reward function per component name (None, "not applicable", for tasks without it)."""

    def make(name: str) -> Callable[..., list[float | None]]:
        def reward(prompts: Sequence[Any], completions: Sequence[Any], **columns: Any) -> list[float | None]:
            return [r.get(name) for r in _score_rows(completions, _columns_truths(columns), profile)]

        reward.__name__ = f"vrft_{name}"
        return reward

    return [make(c) for c in components]


def compute_score(
    data_source: str, solution_str: str, ground_truth: Any, extra_info: Mapping[str, Any] | None = None
) -> dict[str, float | None]:
    """verl's custom reward function: {"score": total, <every component name>: value or None}. The
    profile comes from extra_info["reward_profile"] (default)."""
    profile = (extra_info or {}).get("reward_profile") or "default"
    row = _score_rows([solution_str], [_truth(ground_truth)], profile)[0]
    return {"score": row["total"], **{name: row.get(name) for name in component_names()}}


def compute_score_videochat_r1(
    data_source: str, solution_str: str, ground_truth: Any, extra_info: Mapping[str, Any] | None = None
) -> dict[str, float | None]:
    """verl entry point for the reference profile."""
    return compute_score(data_source, solution_str, ground_truth, {**(extra_info or {}), "reward_profile": "videochat-r1"})
