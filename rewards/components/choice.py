"""Choice: accuracy of the chosen option. Parsing takes a leading option letter only: 'C', '(C)',
'C.', 'C) text', 'Answer: C', 'The answer is (C)'. A word that merely starts with a letter
('Dance.') is not a letter, and a letter beyond the options is not an answer."""

from __future__ import annotations

import re
from typing import Sequence

from rewards.component import Component, Truth, mean, register_component
from schemas import AnswerPart, option_letter

MAX_CHARS = 256
_LETTER = re.compile(
    r"(?i:(?:the\s+)?(?:(?:best|correct|final)\s+)?(?:answer|option)(?:\s+is)?\s*[:\-]?\s*)?"
    r"\(?([A-Z])\)?(?=$|[\s.:),\]])"
)


def parse(content: str, truth: Truth, part: AnswerPart) -> int | None:
    text = content.strip()
    if len(text) > MAX_CHARS:
        return None
    m = _LETTER.match(text)
    if not m:
        return None
    index = ord(m.group(1)) - ord("A")
    return index if index < len(truth["choices"]) else None


def score(pred: int, truth: Truth, part: AnswerPart) -> float:
    return 1.0 if pred == truth["answer_index"] else 0.0


def metrics(preds: Sequence, truths: Sequence[Truth], part: AnswerPart, include_given: bool) -> dict[str, float]:
    return {"accuracy": 100.0 * mean([score(p, t, part) if p is not None else 0.0 for p, t in zip(preds, truths)])}


CHOICE = register_component(
    Component("choice", parse, option_letter, lambda truth, part: truth["answer_index"], score, metrics,
              guess=lambda truth, part, rng: rng.randrange(len(truth["choices"])))  # a letter, uniformly
)
