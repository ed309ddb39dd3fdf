"""The `default` profile, derived entirely from the task declaration and the label components."""

from __future__ import annotations

from functools import lru_cache
from typing import Sequence

from rewards.component import Component, component_for
from rewards.contract import read_contract
from rewards.profiles import Read, Truth, register_profile
from schemas import FORMAT, AnswerPart, Task


@lru_cache(maxsize=None)
def _plan(task: Task) -> tuple[tuple[str, ...], tuple[tuple[AnswerPart, Component], ...]]:
    """The task's tags and (part, component) pairs, looked up once per task, not per completion."""
    return tuple(p.tag for p in task.parts), tuple((p, component_for(p.label)) for p in task.parts)


class DefaultProfile:
    name = "default"
    include_given = False

    def read(self, task: Task, completion: str, truth: Truth) -> Read:
        tags, parts = _plan(task)
        text = completion if isinstance(completion, str) else ""
        contents, well_formed = read_contract(text, tags, truth.get("think", True) is not False)
        preds = {}
        for part, comp in parts:
            content = contents.get(part.tag)
            preds[part.tag] = None if content is None else comp.parse(content, truth, part)
        return Read(preds, well_formed)

    def score(self, task: Task, completion: str, truth: Truth) -> dict[str, float]:
        return {k: v[0] for k, v in self.score_many(task, [completion], [truth]).items()}

    def score_many(self, task: Task, completions: Sequence[str], truths: Sequence[Truth]) -> dict[str, list[float]]:
        """Read every completion, then score each answer part over the batch at once. Format is 1
        when the contract is followed exactly and every part holds a valid answer."""
        reads = [self.read(task, c, t) for c, t in zip(completions, truths)]
        complete = [r.well_formed for r in reads]
        out: dict[str, list[float]] = {}
        for part, comp in _plan(task)[1]:
            preds = [r.predictions[part.tag] for r in reads]
            idx = [i for i, p in enumerate(preds) if p is not None]
            values = [0.0] * len(reads)
            for i, v in zip(idx, comp.scores([preds[i] for i in idx], [truths[i] for i in idx], part)):
                values[i] = v
            out[part.component] = values
            complete = [c and p is not None for c, p in zip(complete, preds)]
        out[FORMAT] = [1.0 if c else 0.0 for c in complete]
        return out


register_profile(DefaultProfile())
