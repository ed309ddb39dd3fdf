"""Answers written in a task's contract from predictions: the truth's own answer (the oracle, full
marks), a trivial floor's answer (whole video, copy of the first box), and a guess that follows the
contract but says nothing about the answer (random times and letters, a fixed box), so baselines and
the supervised warm start go through the very parser that reads a model's answers."""

from __future__ import annotations

import random
from typing import Any, Mapping

from rewards.component import component_for
from schemas import get_task

Truth = Mapping[str, Any]


def write_answer(task: str, predictions: Mapping[str, Any], think: bool, thought: str = "...") -> str:
    """The completion holding each part's prediction in its tag (a missing part is left empty)."""
    decl = get_task(task)
    body = "".join(
        f"<{p.tag}>{'' if predictions.get(p.tag) is None else component_for(p.label).render(predictions[p.tag])}</{p.tag}>"
        for p in decl.parts
    )
    return (f"<think>{thought}</think>" if think else "") + body


def oracle_answer(task: str, truth: Truth) -> str:
    """The truth itself, written as the contract asks (at the contract's precision)."""
    decl = get_task(task)
    preds = {p.tag: component_for(p.label).expected(truth, p) for p in decl.parts}
    return write_answer(task, preds, bool(truth.get("think", True)))


def guess_answer(task: str, truth: Truth, rng: random.Random) -> str:
    """A well-formed answer made only from what the prompt states (`Component.guess` of every part)."""
    decl = get_task(task)
    preds = {p.tag: component_for(p.label).guess(truth, p, rng) for p in decl.parts}
    return write_answer(task, preds, bool(truth.get("think", True)))


def floor_answer(task: str, truth: Truth, floor: str) -> str | None:
    """The answer of the trivial predictor `floor`, or None when no part of the task has that floor."""
    decl = get_task(task)
    preds = {}
    for p in decl.parts:
        comp = component_for(p.label)
        if comp.floor is not None and comp.floor_name == floor:
            preds[p.tag] = comp.floor(truth, p)
    return write_answer(task, preds, bool(truth.get("think", True)), thought="baseline") if preds else None
