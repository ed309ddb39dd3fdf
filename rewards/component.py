"""Reward components, one per label type, keyed by the label type's name.

A component reads the content of its tag into a valid prediction (`parse`, None when the content is
not a valid answer of its label type), writes a prediction back as answer text (`render`, its inverse),
gives the truth as a prediction (`expected`), scores a prediction against the truth in [0, 1]
(`score`), evaluates a list of predictions (`metrics`), proposes a trivial prediction (`floor`)
that every evaluation prints beside a model's numbers, and makes a well-formed guess that carries no
information about the answer (`guess`: drawn at random, or fixed), which teaches a model the answer
contract without teaching it the answers (`rewards.answers.guess_answer`, the demo's warm start).
All functions are pure and total: any string in, a number or None out, never an exception.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

from schemas import AnswerPart
from schemas.registry import Registry

Truth = Mapping[str, Any]
Prediction = Any


@dataclass(frozen=True)
class Component:
    label: str
    parse: Callable[[str, Truth, AnswerPart], Prediction | None]
    render: Callable[[Prediction], str]
    expected: Callable[[Truth, AnswerPart], Prediction]
    score: Callable[[Prediction, Truth, AnswerPart], float]
    # Metrics over a dataset; `include_given` scores what the prompt gave too (the reference does).
    metrics: Callable[[Sequence[Prediction | None], Sequence[Truth], AnswerPart, bool], dict[str, float]]
    floor: Callable[[Truth, AnswerPart], Prediction] | None = None
    floor_name: str = ""
    # Optional vectorized `score` over many (prediction, truth) pairs; must equal the scalar one.
    score_many: Callable[[Sequence[Prediction], Sequence[Truth], AnswerPart], list[float]] | None = None
    # What the numbers `metrics` returns are in: "%" (0-100) or "fraction" (0-1).
    metric_unit: str = "%"
    # A valid prediction that uses only what the prompt states (duration, options, frame count), never the answer.
    guess: Callable[[Truth, AnswerPart, random.Random], Prediction] | None = None

    def scores(self, preds: Sequence[Prediction], truths: Sequence[Truth], part: AnswerPart) -> list[float]:
        if self.score_many is not None:
            return self.score_many(preds, truths, part)
        return [self.score(p, t, part) for p, t in zip(preds, truths)]


_COMPONENTS: Registry[Component] = Registry("reward component for label type")


def register_component(component: Component) -> Component:
    return _COMPONENTS.add(component.label, component)


component_for = _COMPONENTS.get
component_names = _COMPONENTS.names
unregister_component = _COMPONENTS.remove


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def recall_at(values: Sequence[float], thresholds: Sequence[float], strict: bool = False) -> dict[str, float]:
    """Share (percent) of values >= each threshold (> when strict, as GOT-10k's success rate)."""
    n = len(values) or 1
    return {
        f"{t:g}": 100.0 * sum((v > t) if strict else (v >= t) for v in values) / n for t in thresholds
    }
