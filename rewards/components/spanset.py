"""SpanSet: IoU of merged interval sets. Parsing accepts '[(3.2, 8.75), (12, 15.4)]', '[[3.2, 8.75]]',
'3.2-8.75, 12-15.4' and '[]' (no evidence); an even number of times, each pair start < end, clipped
to the video."""

from __future__ import annotations

from typing import Sequence

from rewards.component import Component, Truth, mean, recall_at, register_component
from rewards.components.span import clip_interval, random_interval
from rewards.iou import merged_iou
from rewards.numbers import read_times
from schemas import AnswerPart

MAX_CHARS = 4096
THRESHOLDS = (0.3, 0.5)


def parse(content: str, truth: Truth, part: AnswerPart) -> list[tuple[float, float]] | None:
    times = read_times(content, MAX_CHARS)
    if times is None or len(times) % 2:
        return None
    out = []
    for s, e in zip(times[::2], times[1::2]):
        clipped = clip_interval(s, e, truth.get("duration"))
        if clipped is None:
            return None
        out.append(clipped)
    return out


def truth_intervals(truth: Truth) -> list[tuple[float, float]]:
    return [(float(s["start"]), float(s["end"])) for s in truth["spans"]]


def score(pred: list[tuple[float, float]], truth: Truth, part: AnswerPart) -> float:
    return merged_iou(pred, truth_intervals(truth))


def metrics(preds: Sequence, truths: Sequence[Truth], part: AnswerPart, include_given: bool) -> dict[str, float]:
    ious = [score(p, t, part) if p is not None else 0.0 for p, t in zip(preds, truths)]
    return {"miou": 100.0 * mean(ious), **{f"r@{k}": v for k, v in recall_at(ious, THRESHOLDS).items()}}


def render(pred: list[tuple[float, float]]) -> str:
    return "[" + ", ".join(f"({s + 0.0:.2f}, {e + 0.0:.2f})" for s, e in pred) + "]"  # -0.0 as 0.00 (span.render)


def whole_video(truth: Truth, part: AnswerPart) -> list[tuple[float, float]]:
    return [(0.0, float(truth["duration"]))]


SPANSET = register_component(
    Component("spanset", parse, render, lambda truth, part: truth_intervals(truth), score, metrics,
              floor=whole_video, floor_name="whole-video",
              guess=lambda truth, part, rng: [random_interval(truth, part, rng)])
)
