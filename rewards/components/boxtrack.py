"""BoxTrack: mean box IoU over the frames the model had to find. The boxes the prompt gave (the
task declares how many, tracking: the first) are never rewarded, so copying them earns nothing.
Parsing wants exactly 4 numbers per frame in order ('[[x0, y0, x1, y1], ...]'), every box inside
[0, 1] with x0 < x1 and y0 < y1: a track with a box on another scale or inverted is not an answer."""

from __future__ import annotations

import itertools
import operator
from typing import Sequence

import numpy as np

from rewards.component import Component, Truth, mean, recall_at, register_component
from rewards.iou import box_iou
from rewards.numbers import read_coords
from schemas import AnswerPart

CHARS_PER_BOX = 64
THRESHOLDS = (0.5, 0.7)
Box4 = tuple[float, float, float, float]


_XYXY = operator.itemgetter("x0", "y0", "x1", "y1")


def truth_boxes(truth: Truth) -> list[Box4]:
    return list(map(_XYXY, truth["boxes"]))


def parse(content: str, truth: Truth, part: AnswerPart) -> list[Box4] | None:
    n = len(truth["boxes"])
    coords = read_coords(content, CHARS_PER_BOX * (n + 1))
    if coords is None or len(coords) != 4 * n:
        return None
    # inside [0, 1], x0 < x1 and y0 < y1 for every box (C-level loops: this runs once per completion)
    if min(coords) < 0.0 or max(coords) > 1.0:
        return None
    if not (all(map(operator.lt, coords[0::4], coords[2::4])) and all(map(operator.lt, coords[1::4], coords[3::4]))):
        return None
    it = iter(coords)
    return list(zip(it, it, it, it))


def frame_ious(pred: Sequence[Box4], truth: Truth, start: int) -> list[float]:
    return [box_iou(p, g) for p, g in zip(pred[start:], truth_boxes(truth)[start:])]


def score(pred: list[Box4], truth: Truth, part: AnswerPart) -> float:
    return mean(frame_ious(pred, truth, part.given))


def score_many(preds: Sequence[list[Box4]], truths: Sequence[Truth], part: AnswerPart) -> list[float]:
    """`score` for a batch in one numpy pass (tracks of equal length; others fall back to `score`)."""
    lengths = {len(p) for p in preds}
    if len(lengths) != 1 or not preds:
        return [score(p, t, part) for p, t in zip(preds, truths)]
    start, (n,) = part.given, lengths
    if any(len(t["boxes"]) != n for t in truths) or n <= start:
        return [score(p, t, part) for p, t in zip(preds, truths)]
    flat = itertools.chain.from_iterable(itertools.chain.from_iterable(preds))
    p = np.fromiter(flat, np.float64, count=len(preds) * n * 4).reshape(len(preds), n, 4)[:, start:]  # [N, F, 4]
    gt_of: dict[int, list[Box4]] = {}  # a group's completions share one truth: convert it once
    g = np.asarray([gt_of.setdefault(id(t), truth_boxes(t)) for t in truths], dtype=np.float64)[:, start:]
    iw = np.minimum(p[..., 2], g[..., 2]) - np.maximum(p[..., 0], g[..., 0])
    ih = np.minimum(p[..., 3], g[..., 3]) - np.maximum(p[..., 1], g[..., 1])
    inter = np.where((iw > 0) & (ih > 0), iw * ih, 0.0)
    union = (p[..., 2] - p[..., 0]) * (p[..., 3] - p[..., 1]) + (g[..., 2] - g[..., 0]) * (g[..., 3] - g[..., 1]) - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        iou = np.where(union > 0, np.minimum(1.0, inter / np.where(union > 0, union, 1.0)), 0.0)
    iou = np.where(np.all(p == g, axis=-1), 1.0, iou)  # as box_iou: identical boxes are 1 even if tiny
    gt_ok = (g[..., 0] < g[..., 2]) & (g[..., 1] < g[..., 3])
    iou = np.where(gt_ok, iou, 0.0)
    total = iou[:, 0].copy()
    for k in range(1, iou.shape[1]):  # left to right, as Python's sum: equal to `score` to the bit
        total += iou[:, k]
    return (total / iou.shape[1]).tolist()


def metrics(preds: Sequence, truths: Sequence[Truth], part: AnswerPart, include_given: bool) -> dict[str, float]:
    start = 0 if include_given else part.given
    per_track, frames = [], []
    for p, t in zip(preds, truths):
        ious = frame_ious(p, t, start) if p is not None else [0.0] * (len(t["boxes"]) - start)
        per_track.append(mean(ious))
        frames.extend(ious)
    sr = recall_at(frames, THRESHOLDS, strict=True)
    return {"ao": mean(per_track), **{f"sr@{k}": v / 100.0 for k, v in sr.items()}}


def render(pred: Sequence[Box4]) -> str:
    return "[" + ", ".join("[" + ", ".join(f"{v:.3f}" for v in box) + "]" for box in pred) + "]"


def copy_first_box(truth: Truth, part: AnswerPart) -> list[Box4]:
    return [truth_boxes(truth)[0]] * len(truth["boxes"])


CENTRE: Box4 = (0.25, 0.25, 0.75, 0.75)


def centre_boxes(truth: Truth, part: AnswerPart, rng) -> list[Box4]:
    """The middle of the frame in every frame: a fixed track, short to learn and saying nothing."""
    return [CENTRE] * len(truth["boxes"])


BOXTRACK = register_component(
    Component(
        "boxtrack", parse, render, lambda truth, part: truth_boxes(truth), score, metrics, floor=copy_first_box,
        floor_name="copy-first-box", score_many=score_many, metric_unit="fraction", guess=centre_boxes
    )
)
