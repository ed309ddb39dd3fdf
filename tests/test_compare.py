"""Intervals on evaluation metrics (percentile bootstrap) and the verdicts read from them."""

from __future__ import annotations

import math

import pytest

from rewards.compare import FLOOR, compare_task
from rewards.intervals import bootstrap


def mean_of(values):
    return lambda idx: {"mean": sum(values[i] for i in idx) / len(idx)}


def test_bootstrap_of_a_share_matches_the_normal_interval():
    values = [1.0] * 100 + [0.0] * 300                      # p = 0.25, n = 400
    half = 1.96 * math.sqrt(0.25 * 0.75 / 400)              # 0.0424: the textbook interval of a share
    iv = bootstrap(400, mean_of(values), resamples=2000)["mean"]
    assert iv.value == 0.25
    assert iv.low == pytest.approx(0.25 - half, abs=0.008) and iv.high == pytest.approx(0.25 + half, abs=0.008)


def test_bootstrap_is_seeded_and_degenerate_samples_have_no_width():
    values = [0.1, 0.5, 0.9, 0.3, 0.7]
    assert bootstrap(5, mean_of(values), seed=3) == bootstrap(5, mean_of(values), seed=3)
    iv = bootstrap(6, mean_of([0.4] * 6))["mean"]
    assert (iv.low, iv.value, iv.high) == pytest.approx((0.4, 0.4, 0.4))
    assert bootstrap(0, mean_of([])) == {}


def grounding(n):
    """n truths: span [2, 4] of a 10 s video (whole-video IoU = 0.2)."""
    return [{"span": {"start": 2.0, "end": 4.0}, "duration": 10.0, "think": False} for _ in range(n)]


def test_compare_reads_answers_gives_floor_and_paired_differences():
    truths = grounding(40)
    exact = ["<answer>2.00 to 4.00</answer>"] * 40
    half = ["<answer>2.00 to 3.00</answer>"] * 20 + ["garbage"] * 20   # IoU 0.5 on half, unparsed on half
    rows = {(r.component, r.metric): r for r in compare_task(
        "temporal_grounding", truths, {"A": half, "B": exact}, pairs=[("A", "B"), (FLOOR, "B"), ("B", "B")])}
    miou = rows[("iou", "mIoU")]
    assert miou.n == 40 and miou.primary and not rows[("iou", "R1@0.5")].primary
    assert miou.values["B"].value == 100.0 and miou.values["A"].value == pytest.approx(25.0)
    assert miou.values[FLOOR].value == pytest.approx(20.0)                     # 2 s of 10 s
    a = miou.values["A"]
    assert a.low < 25.0 < a.high and a.high - a.low > 10                        # half the answers unread: wide
    assert miou.differences[("A", "B")].low == pytest.approx(75.0 - (a.high - 25.0), abs=1e-9)
    assert miou.verdict("A", "B") == "beat" and miou.verdict(FLOOR, "B") == "beat"
    assert miou.verdict("B", "B") == "no clear difference"
    unparsed = rows[("iou", "unparsed")]
    assert FLOOR not in unparsed.values                                         # a floor always parses
    assert unparsed.values["A"].value == 50.0 and unparsed.verdict("A", "B") == "beat"  # fewer unread answers


def test_worse_is_worse():
    truths = grounding(30)
    rows = compare_task("temporal_grounding", truths, {"good": ["<answer>2.00 to 4.00</answer>"] * 30,
                                                        "bad": ["<answer>6.00 to 9.00</answer>"] * 30},
                        pairs=[("good", "bad")])
    miou = next(r for r in rows if r.metric == "mIoU")
    assert miou.verdict("good", "bad") == "worse"
