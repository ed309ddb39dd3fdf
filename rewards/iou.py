"""Overlap measures shared by rewards and metrics. Pure, total: degenerate inputs give 0, never raise."""

from __future__ import annotations

from typing import Callable, Iterable, Sequence

Interval = tuple[float, float]
XYXY = Sequence[float]


def temporal_iou(a: Interval, b: Interval) -> float:
    """IoU of two intervals in seconds; 0 when the union is empty or an interval is inverted."""
    (s1, e1), (s2, e2) = a, b
    if not (s1 < e1 and s2 < e2):
        return 0.0
    inter = min(e1, e2) - max(s1, s2)
    if inter <= 0:
        return 0.0
    return min(1.0, inter / (max(e1, e2) - min(s1, s2)))


def merge_intervals(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted union of intervals; touching or overlapping ones are joined, empty ones dropped."""
    out: list[list[float]] = []
    for s, e in sorted((s, e) for s, e in intervals if s < e):
        if out and s <= out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return [(s, e) for s, e in out]


def merged_iou(a: Iterable[Interval], b: Iterable[Interval]) -> float:
    """IoU of two interval sets after merging each; 0 when the union is empty."""
    inter, union = merged_overlap(a, b)
    return min(1.0, inter / union) if union > 0 else 0.0


def merged_overlap(
    a: Iterable[Interval], b: Iterable[Interval],
    merge: Callable[[Iterable[Interval]], Sequence[Interval]] = merge_intervals,
) -> tuple[float, float]:
    """(intersection, union) lengths of two interval sets after merging each with `merge`."""
    ma, mb = merge(a), merge(b)
    inter, i, j = 0, 0, 0
    while i < len(ma) and j < len(mb):
        lo, hi = max(ma[i][0], mb[j][0]), min(ma[i][1], mb[j][1])
        if lo < hi:
            inter += hi - lo
        if ma[i][1] < mb[j][1]:
            i += 1
        else:
            j += 1
    return inter, sum(e - s for s, e in ma) + sum(e - s for s, e in mb) - inter


def box_iou(a: XYXY, b: XYXY) -> float:
    """IoU of two [x0, y0, x1, y1] boxes; 0 for inverted or empty boxes."""
    ax0, ay0, ax1, ay1 = a
    bx0, by0, bx1, by1 = b
    if not (ax0 < ax1 and ay0 < ay1 and bx0 < bx1 and by0 < by1):
        return 0.0
    if (ax0, ay0, ax1, ay1) == (bx0, by0, bx1, by1):
        return 1.0  # also when the area underflows to 0
    iw = min(ax1, bx1) - max(ax0, bx0)
    ih = min(ay1, by1) - max(ay0, by0)
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    union = (ax1 - ax0) * (ay1 - ay0) + (bx1 - bx0) * (by1 - by0) - inter
    return min(1.0, inter / union) if union > 0 else 0.0
