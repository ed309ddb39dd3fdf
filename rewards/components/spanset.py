"""SpanSet: evidence intervals. Parsing accepts '[(3.2, 8.75), (12, 15.4)]', '[[3.2, 8.75]]',
'3.2-8.75, 12-15.4' and '[]' (no evidence); an even number of times, each pair start < end, clipped
to the video. The reward is the IoU of the merged interval sets (VideoChat-R1's).

Metrics as NExT-GQA's official `eval_ground.py` defines them (docs/reference.md): one predicted span
per question, scored against each published truth segment; the question's IoU and IoP (intersection
over the prediction's length) are the maxima over its segments, and a zero-length prediction inside a
segment has IoU 0 and IoP 1. Reported in percent: mIoP, IoP@0.3, IoP@0.5, mIoU, IoU@0.3, IoU@0.5
(thresholds inclusive). The official code takes one span per question and has no rule for several;
vrft's rule is the *hull*: a prediction of several intervals is scored as the one span from its
earliest start to its latest end (what the official script computes when handed the flattened list,
as it reads a span's first and last numbers). Scattering many short intervals so widens the span
and lowers IoP instead of raising it. No interval (`[]`) or an unreadable answer is a miss (IoU and
IoP 0; the official script would leave the question out of its denominator).
VideoChat-R1's own "mIoU", the IoU of the merged sets, is kept under its own name."""

from __future__ import annotations

from typing import Sequence

from rewards.component import Component, Truth, mean, percent_at, published, register_component
from rewards.components.span import as_interval, clip_interval, random_interval
from rewards.iou import merged_iou
from rewards.numbers import read_times
from schemas import AnswerPart

MAX_CHARS = 4096
THRESHOLDS = (0.3, 0.5)
Interval = tuple[float, float]


def parse(content: str, truth: Truth, part: AnswerPart) -> list[Interval] | None:
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


def truth_intervals(truth: Truth) -> list[Interval]:
    return [as_interval(s) for s in truth["spans"]]


def score(pred: list[Interval], truth: Truth, part: AnswerPart) -> float:
    return merged_iou(pred, truth_intervals(truth))


def hull(pred: Sequence[Interval]) -> Interval | None:
    """The one span NExT-GQA scores for a prediction of several intervals (see the module doc)."""
    return (min(s for s, _ in pred), max(e for _, e in pred)) if pred else None


def segment_overlap(pred: Interval, segment: Interval) -> tuple[float, float]:
    """(IoU, IoP) of one predicted span against one truth segment, as NExT-GQA defines them."""
    (ps, pe), (gs, ge) = pred, segment
    if ps == pe:
        return 0.0, (1.0 if gs <= ps <= ge else 0.0)
    inter = min(pe, ge) - max(ps, gs)
    if inter <= 0:
        return 0.0, 0.0
    return inter / (max(pe, ge) - min(ps, gs)), inter / (pe - ps)


def question_overlap(pred: Sequence[Interval] | None, truth: Truth) -> tuple[float, float]:
    """(IoU, IoP) of a question: the maxima over its published segments; (0, 0) for no prediction."""
    span = hull(pred) if pred else None
    if span is None:
        return 0.0, 0.0
    pairs = [segment_overlap(span, as_interval(s)) for s in published(truth, "spans")]
    return max((u for u, _ in pairs), default=0.0), max((p for _, p in pairs), default=0.0)


def metrics(preds: Sequence, truths: Sequence[Truth], part: AnswerPart, include_given: bool) -> dict[str, float]:
    pairs = [question_overlap(p, t) for p, t in zip(preds, truths)]
    ious, iops = [u for u, _ in pairs], [p for _, p in pairs]
    merged = [merged_iou(p, [as_interval(s) for s in published(t, "spans")]) if p is not None else 0.0
              for p, t in zip(preds, truths)]
    return {
        "mIoP": 100.0 * mean(iops), **{f"IoP@{t:g}": v for t, v in percent_at(iops, THRESHOLDS).items()},
        "mIoU": 100.0 * mean(ious), **{f"IoU@{t:g}": v for t, v in percent_at(ious, THRESHOLDS).items()},
        "VideoChat-R1 mIoU": 100.0 * mean(merged),
    }


def render(pred: list[Interval]) -> str:
    return "[" + ", ".join(f"({s + 0.0:.2f}, {e + 0.0:.2f})" for s, e in pred) + "]"  # -0.0 as 0.00 (span.render)


def whole_video(truth: Truth, part: AnswerPart) -> list[Interval]:
    return [(0.0, float(truth["duration"]))]


SPANSET = register_component(
    Component("spanset", parse, render, lambda truth, part: truth_intervals(truth), score, metrics,
              floor=whole_video, floor_name="whole-video",
              guess=lambda truth, part, rng: [random_interval(truth, part, rng)])
)
