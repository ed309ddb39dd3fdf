"""A sample's reward label from its G completions (rewards/group_stats.py), against values worked out by
hand on real default-profile answers; and the tasks' success rules."""

from __future__ import annotations

import math

import pytest

import schemas
from rewards.group_stats import group_stats, score_completions

TRUTH = {"task": "temporal_grounding", "span": {"start": 2.0, "end": 6.0}, "duration": 10.0, "think": True}


def test_the_label_of_four_grounding_answers_by_hand():
    completions = [
        "<think>x</think><answer>2 to 6</answer>",      # format 1, IoU 1       -> total 2, success
        "<think>x</think><answer>4 to 6</answer>",      # format 1, IoU 2/4     -> total 1.5, success (IoU >= 0.5)
        "<think>x</think><answer>5 to 9</answer>",      # format 1, IoU 1/7     -> total 8/7
        "the event is somewhere",                       # unparsed: 0, 0        -> total 0
    ]
    rows = score_completions("temporal_grounding", completions, TRUTH, "default")
    assert [r["success"] for r in rows] == [True, True, False, False]
    assert [r["unparsed"] for r in rows] == [False, False, False, True]
    got = group_stats("temporal_grounding", rows, [10, 12, 14, 20], [False, False, True, True])
    totals = [2.0, 1.5, 1 + 1 / 7, 0.0]
    mean = sum(totals) / 4
    assert got["reward_mean"] == pytest.approx(mean)
    assert got["reward_std"] == pytest.approx(math.sqrt(sum((t - mean) ** 2 for t in totals) / 3))   # n - 1
    assert got["iou_mean"] == pytest.approx((1 + 0.5 + 1 / 7) / 4)
    assert got["format_mean"] == pytest.approx(0.75) and got["format_std"] == pytest.approx(0.5)
    assert (got["success"], got["unparsed"], got["truncated"], got["completion_length"]) == (0.5, 0.25, 0.5, 14.0)
    assert "accuracy_mean" not in got


def test_a_group_that_scores_alike_has_zero_spread_and_weights_count():
    rows = score_completions("temporal_grounding", ["<think>a</think><answer>2 to 6</answer>"] * 3, TRUTH, "default",
                             weights={"format": 0.5})
    got = group_stats("temporal_grounding", rows, [5, 5, 5], [False] * 3)
    assert got["reward_mean"] == 1.5 and got["reward_std"] == 0.0 and got["success"] == 1.0
    with pytest.raises(ValueError, match="3 scored completions, 2 lengths"):
        group_stats("temporal_grounding", rows, [5, 5], [False] * 3)


def test_success_rules_are_declared_with_the_task_and_checked():
    assert schemas.get_task("temporal_grounding").success_rule == {"format": 1.0, "iou": 0.5}
    assert schemas.get_task("video_qa").success_rule == {"format": 1.0, "accuracy": 1.0}
    task = schemas.get_task("tracking")
    with pytest.raises(ValueError, match="success names \\['accuracy'\\]"):
        schemas.Task(name="t", doc="", intro="", parts=task.parts, weights=task.weights, success={"accuracy": 1}).validate()
    bare = schemas.Task(name="t", doc="", intro="", parts=task.parts, weights=task.weights)
    assert bare.success_rule == {"format": 1.0, "iou": 1.0}                   # undeclared: every component at 1
