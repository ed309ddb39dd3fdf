"""Span: temporal IoU of one predicted interval. Parsing accepts '12.5 to 17.8', '12.5-17.8',
'[12.5, 17.8]', '12.5s - 17.8s', 'from 0:12 to 0:17.8'; exactly two times, start < end; the
prediction is clipped to the video.

Metrics as Charades-STA and ActivityNet Captions define them: R1@t, the share of queries whose one
prediction has IoU >= t with the truth (t = 0.3, 0.5, 0.7), and mIoU, the mean IoU, both in percent,
against the spans as published (a span the repair policy clipped to the video is scored by its
published value, kept on the row). An unreadable answer counts as IoU 0."""

from __future__ import annotations

import random
from typing import Sequence

from rewards.component import Component, Truth, mean, percent_at, published, register_component
from rewards.iou import temporal_iou
from rewards.numbers import read_times
from schemas import AnswerPart

MAX_CHARS = 256
THRESHOLDS = (0.3, 0.5, 0.7)


def clip_interval(start: float, end: float, duration: float | None) -> tuple[float, float] | None:
    """The interval inside [0, duration], or None when nothing of it is inside or it is inverted."""
    if duration:
        start, end = max(0.0, start), min(end, float(duration))
    return (start, end) if start < end else None


def parse(content: str, truth: Truth, part: AnswerPart) -> tuple[float, float] | None:
    times = read_times(content, MAX_CHARS)
    if not times or len(times) != 2:
        return None
    return clip_interval(times[0], times[1], truth.get("duration"))


def as_interval(span) -> tuple[float, float]:
    return (float(span["start"]), float(span["end"]))


def truth_interval(truth: Truth) -> tuple[float, float]:
    return as_interval(truth["span"])


def score(pred: tuple[float, float], truth: Truth, part: AnswerPart) -> float:
    return temporal_iou(pred, truth_interval(truth))


def metrics(preds: Sequence, truths: Sequence[Truth], part: AnswerPart, include_given: bool) -> dict[str, float]:
    ious = [temporal_iou(p, as_interval(published(t, "span"))) if p is not None else 0.0 for p, t in zip(preds, truths)]
    recall = {f"R1@{t:g}": v for t, v in percent_at(ious, THRESHOLDS).items()}
    return {"mIoU": 100.0 * mean(ious), **recall}   # the headline first (`rewards.compare`)


def render(pred: tuple[float, float]) -> str:
    # + 0.0 writes a published -0.0 as 0.00: a minus sign is no answer to the reference's glue pattern
    return f"{pred[0] + 0.0:.2f} to {pred[1] + 0.0:.2f}"


def whole_video(truth: Truth, part: AnswerPart) -> tuple[float, float]:
    return (0.0, float(truth["duration"]))


def random_interval(truth: Truth, part: AnswerPart, rng: random.Random) -> tuple[float, float]:
    """Two times drawn uniformly over the video (the prompt states its duration), in order, as rendered."""
    while True:
        start, end = sorted(round(rng.uniform(0.0, float(truth["duration"])), 2) for _ in range(2))
        if start < end:
            return (start, end)


SPAN = register_component(
    Component("span", parse, render, lambda truth, part: truth_interval(truth), score, metrics, floor=whole_video,
              floor_name="whole-video", guess=random_interval)
)
