"""What a degenerate policy earns: lazy answers written through each task's answer contract (as the
baselines are, `rewards.answers`), scored by a profile, beside the oracle's.

A reward that pays a lazy policy is what RL learns first, so every profile is audited against these:

- `oracle`: the truth itself, the ceiling.
- content policies, well-formed, each filling the parts it knows and giving the others the lazy default:
  `constant-letter` (option A), `most-frequent-letter` (the letter most often right in the audited data:
  a prior, no video), one per trivial floor (`whole-video`, `copy-first-box`: the box the prompt gives,
  in every frame) and `random` (`Component.guess`, seeded: random times and letters, a fixed centre box).
- form policies, the lazy default written badly: `empty-think` (an empty thinking block),
  `answer-in-think` (the answer blocks inside the thinking, nothing after), `format-only` (every tag, empty).

The lazy default of a part is its label type's floor, else option A, else its guess. Answers are
written with the thinking contract (the reference's); `well_formed` says which policies should parse.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

from rewards.answers import oracle_answer, write_answer
from rewards.component import component_for
from rewards.profiles import get_profile
from rewards.scoring import score_batch
from schemas import AnswerPart, get_task

Truth = Mapping[str, Any]
CHOICE = "choice"
ORACLE = "oracle"
UNPARSED = "unparsed"  # percent of answers with a part the profile could not read
THOUGHT = "lazy"


@dataclass(frozen=True)
class Context:
    """What a policy may know besides the sample's prompt: a seeded generator and the data's prior."""

    rng: random.Random
    frequent: Mapping[str, int]  # choice tag -> the answer index most often right in the audited data


# A policy's prediction for one part, or None when it has nothing to say about that part.
Content = Callable[[AnswerPart, Truth, Context], Any]


def _letter(pick: Callable[[AnswerPart, Context], int]) -> Content:
    return lambda part, truth, ctx: pick(part, ctx) if part.label == CHOICE else None


def _guess(part: AnswerPart, truth: Truth, ctx: Context) -> Any:
    guess = component_for(part.label).guess
    return guess(truth, part, ctx.rng) if guess is not None else None


def _lazy(part: AnswerPart, truth: Truth, ctx: Context) -> Any:
    """The lazy default: the label type's floor, else option A, else its guess."""
    comp = component_for(part.label)
    if comp.floor is not None:
        return comp.floor(truth, part)
    return 0 if part.label == CHOICE else _guess(part, truth, ctx)


def _well_formed(task: str, preds: Mapping[str, Any]) -> str:
    return write_answer(task, preds, think=True, thought=THOUGHT)


def _empty_think(task: str, preds: Mapping[str, Any]) -> str:
    return write_answer(task, preds, think=True, thought="")


def _in_think(task: str, preds: Mapping[str, Any]) -> str:
    return f"<think>{write_answer(task, preds, think=False)}</think>"


def _format_only(task: str, preds: Mapping[str, Any]) -> str:
    return write_answer(task, {}, think=True, thought=THOUGHT)


@dataclass(frozen=True)
class Policy:
    name: str
    content: Content
    write: Callable[[str, Mapping[str, Any]], str] = _well_formed
    well_formed: bool = True


def policies(task: str) -> list[Policy]:
    """The degenerate policies that apply to `task` (a content policy where it knows a part), in order."""
    parts = get_task(task).parts
    comps = [component_for(p.label) for p in parts]
    out = []
    if any(p.label == CHOICE for p in parts):
        out += [Policy("constant-letter", _letter(lambda part, ctx: 0)),
                Policy("most-frequent-letter", _letter(lambda part, ctx: ctx.frequent[part.tag]))]
    # a floor policy answers every part with its floor (A for a choice): the lazy default itself
    out += [Policy(name, _lazy) for name in dict.fromkeys(c.floor_name for c in comps if c.floor)]
    if any(c.guess for c in comps):
        out.append(Policy("random", _guess))
    return out + [
        Policy("empty-think", _lazy, _empty_think),
        Policy("answer-in-think", _lazy, _in_think, well_formed=False),
        Policy("format-only", _lazy, _format_only, well_formed=False),
    ]


def most_frequent(task: str, truths: Sequence[Truth]) -> dict[str, int]:
    """choice tag -> the answer index most often right in `truths` (the lowest on a tie)."""
    tags = [p.tag for p in get_task(task).parts if p.label == CHOICE]
    counts = Counter(t["answer_index"] for t in truths) if tags else Counter()
    best = min(counts, key=lambda i: (-counts[i], i)) if counts else 0
    return {tag: best for tag in tags}


def answers(task: str, truths: Sequence[Truth], seed: int = 0) -> dict[str, list[str]]:
    """policy name -> one completion per truth; the oracle first."""
    truths = [{**t, "think": True} for t in truths]
    parts = get_task(task).parts
    out = {ORACLE: [oracle_answer(task, t) for t in truths]}
    frequent = most_frequent(task, truths)
    for policy in policies(task):
        ctx = Context(random.Random(f"{seed}:{task}:{policy.name}"), frequent)  # each policy's own draws
        texts = []
        for truth in truths:
            preds = {}
            for part in parts:
                value = policy.content(part, truth, ctx)
                preds[part.tag] = _lazy(part, truth, ctx) if value is None else value
            texts.append(policy.write(task, preds))
        out[policy.name] = texts
    return out


def audit(task: str, truths: Sequence[Truth], profile: str, seed: int = 0) -> dict[str, dict[str, float]]:
    """policy name -> {component: mean, ..., "total": mean, UNPARSED: percent}; the oracle first."""
    decl, prof = get_task(task), get_profile(profile)
    truths = [{**t, "think": True} for t in truths]
    out = {}
    for name, texts in answers(task, truths, seed).items():
        scores = score_batch(task, texts, truths, profile)
        n = max(1, len(texts))
        row = {k: sum(v) / n for k, v in scores.components.items()}
        row["total"] = sum(scores.total) / n
        unread = sum(any(v is None for v in prof.read(decl, c, t).predictions.values()) for c, t in zip(texts, truths))
        row[UNPARSED] = 100.0 * unread / n
        out[name] = row
    return out


def well_formed(task: str) -> set[str]:
    """The policies (and the oracle) whose answers follow the contract: none of them may go unread."""
    return {ORACLE} | {p.name for p in policies(task) if p.well_formed}
