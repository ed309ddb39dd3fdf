"""The batch API: every component and the weighted total, for one task and profile.

Pure: strings and truth mappings in, floats out. Truth is the normalized form (`schemas.ground_truth`):
{"task", label fields ("span", "spans", "choices"/"answer_index", "boxes"), "duration", "think"}.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

from rewards.profiles import get_profile, score_many
from schemas import get_task

Truth = Mapping[str, Any]


@dataclass(frozen=True)
class BatchScores:
    components: dict[str, list[float]]   # component name -> one value per completion
    total: list[float]                   # weighted sum of the components

    def row(self, i: int) -> dict[str, float]:
        return {**{k: v[i] for k, v in self.components.items()}, "total": self.total[i]}


def score_batch(
    task: str,
    completions: Sequence[str],
    truths: Sequence[Truth],
    profile: str = "default",
    weights: Mapping[str, float] | None = None,
) -> BatchScores:
    """Score completions of one task; `weights` override the task declaration's per component."""
    if len(completions) != len(truths):
        raise ValueError(f"{len(completions)} completions but {len(truths)} truths")
    decl, prof = get_task(task), get_profile(profile)
    w = {**decl.weights, **(weights or {})}
    unknown = set(w) - set(decl.components)
    if unknown:
        raise KeyError(f"task {task!r} has no components {sorted(unknown)}; it has {list(decl.components)}")
    values = score_many(prof, decl, completions, truths)
    comps = {name: values[name] for name in decl.components}
    total = [0.0] * len(completions)
    for name, column in comps.items():
        weight = w[name]
        total = [t + weight * v for t, v in zip(total, column)]
    return BatchScores(comps, total)


def score_one(task: str, completion: str, truth: Truth, profile: str = "default") -> dict[str, float]:
    """Components and total of one completion."""
    return score_batch(task, [completion], [truth], profile).row(0)


# score(task, completions, truths, profile=..., weights=...) -> BatchScores (or any object with .total and
# .components), e.g. a test's stand-in reward
TaskScorer = Callable[..., Any]


def score_mixed(
    tasks: Sequence[str],
    completions: Sequence[str],
    truths: Sequence[Truth],
    profile: str = "default",
    weights: Mapping[str, Mapping[str, float]] | None = None,
    score: TaskScorer = score_batch,
) -> list[dict[str, float]]:
    """Score a batch that mixes tasks: one `score` call per task present, rows back in input order, each
    {component: value, ..., "total": value} with the components of its own task. `weights` are per task
    (task -> component -> weight; a task not named keeps its declaration's weights)."""
    if not len(tasks) == len(completions) == len(truths):
        raise ValueError(f"{len(tasks)} tasks, {len(completions)} completions, {len(truths)} truths")
    out: list[dict[str, float]] = [{} for _ in completions]
    by_task: dict[str, list[int]] = {}
    for i, task in enumerate(tasks):
        by_task.setdefault(task, []).append(i)
    for task, rows in by_task.items():
        scores = score(task, [completions[i] for i in rows], [truths[i] for i in rows], profile=profile,
                       weights=(weights or {}).get(task))
        for k, i in enumerate(rows):
            out[i] = {**{name: float(v[k]) for name, v in scores.components.items()}, "total": float(scores.total[k])}
    return out
