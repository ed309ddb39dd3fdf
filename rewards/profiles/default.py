"""The `default` profile, derived entirely from the task declaration and the label components."""

from __future__ import annotations

from functools import lru_cache
from typing import Sequence

from rewards.component import Component, component_for, component_names
from rewards.contract import read_contract
from rewards.profiles import Admitted, Read, Truth, TruthRefused, register_profile
from schemas import FORMAT, AnswerPart, Task, check_labels
from schemas.repairs import RepairPolicy, repair_labels


@lru_cache(maxsize=None)
def _plan(task: Task) -> tuple[tuple[str, ...], tuple[tuple[AnswerPart, Component], ...]]:
    """The task's tags and (part, component) pairs, looked up once per task, not per completion."""
    return tuple(p.tag for p in task.parts), tuple((p, component_for(p.label)) for p in task.parts)


class DefaultProfile:
    name = "default"
    include_given = False

    def claims(self, task: Task) -> bool:
        return True  # derived from the declaration: every task

    def can_score(self, task: Task, part: AnswerPart) -> bool:
        return part.label in component_names()

    def read(self, task: Task, completion: str, truth: Truth) -> Read:
        reading, preds = self._read_many(task, [completion], [truth])
        return Read({part.tag: p[0] for part, p in zip(task.parts, preds)}, reading[0].well_formed)

    def score(self, task: Task, completion: str, truth: Truth) -> dict[str, float]:
        return {k: v[0] for k, v in self.score_many(task, [completion], [truth]).items()}

    def admit(self, task: Task, truth: Truth, policy: RepairPolicy) -> Admitted:
        """What ingestion does to a record's labels: the repair policy, then the task's checks."""
        repaired, repairs = repair_labels(truth, policy)
        violations = check_labels(task, repaired)
        if violations:
            raise TruthRefused("; ".join(map(str, violations)))
        return Admitted(repaired, repairs=tuple(repairs))

    @staticmethod
    def _read_many(task: Task, completions: Sequence[str], truths: Sequence[Truth]):
        """The contract reading of every completion, and per answer part the parsed predictions."""
        tags, parts = _plan(task)
        readings = [
            read_contract(c if isinstance(c, str) else "", tags, t.get("think", True) is not False)
            for c, t in zip(completions, truths)
        ]
        preds = []
        for part, comp in parts:
            tag, parse = part.tag, comp.parse
            preds.append([
                None if (content := r.contents.get(tag)) is None else parse(content, t, part)
                for r, t in zip(readings, truths)
            ])
        return readings, preds

    def score_many(self, task: Task, completions: Sequence[str], truths: Sequence[Truth]) -> dict[str, list[float]]:
        """Read every completion, then score each answer part over the batch at once. Format is 1
        when the contract is followed exactly and every part holds a valid answer."""
        readings, preds = self._read_many(task, completions, truths)
        complete = [r.well_formed for r in readings]
        out: dict[str, list[float]] = {}
        for (part, comp), part_preds in zip(_plan(task)[1], preds):
            idx = [i for i, p in enumerate(part_preds) if p is not None]
            values = [0.0] * len(readings)
            for i, v in zip(idx, comp.scores([part_preds[i] for i in idx], [truths[i] for i in idx], part)):
                values[i] = v
            out[part.component] = values
            complete = [c and p is not None for c, p in zip(complete, part_preds)]
        out[FORMAT] = [1.0 if c else 0.0 for c in complete]
        return out


register_profile(DefaultProfile())
