"""The demo's verdict pieces: the no-video prior fitted on training labels, chance for a multiple
choice, and sentences that carry the computed numbers."""

from __future__ import annotations

import pytest

from rewards.compare import MetricComparison
from rewards.intervals import Interval
from schemas import get_task
from vrft.demo_comparison import answer_variety, best_fractions, chance_accuracy, parsed, prior_answers, verdicts


def span_truth(duration, start, end, **kw):
    return {"span": {"start": start, "end": end}, "duration": duration, "think": False, **kw}


def test_best_fractions_find_the_fixed_share_of_the_duration():
    truths = [span_truth(d, 0.2 * d, 0.6 * d) for d in (5.0, 10.0, 20.0)]   # always 20%-60% of the video
    assert best_fractions(truths, get_task("temporal_grounding").parts[0]) == pytest.approx((0.2, 0.6))


def test_prior_answers_use_the_duration_and_the_most_frequent_letter_only():
    part_truths = [{"choices": list("abcd"), "answer_index": i, "spans": [{"start": 0.5 * d, "end": 0.7 * d}],
                    "duration": d, "think": False} for i, d in ((2, 8.0), (2, 4.0), (1, 12.0))]
    held_out = [{"choices": list("abcd"), "answer_index": 0, "spans": [{"start": 1.0, "end": 2.0}], "duration": 10.0,
                 "think": False}]
    assert prior_answers("grounded_qa", part_truths, held_out) == ["<answer>C</answer><glue>[(5.00, 7.00)]</glue>"]
    assert prior_answers("tracking", [], []) is None                        # no prior for a box track


def test_chance_is_the_mean_of_one_over_the_options():
    assert chance_accuracy([{"choices": list("abcd")}, {"choices": list("abcde")}]) == pytest.approx(22.5)
    assert chance_accuracy([{"span": {}}]) is None


def test_verdict_sentences_carry_the_numbers_and_the_reading_of_the_intervals():
    row = MetricComparison(
        "temporal_grounding", 96, "iou", "mIoU",
        values={"GRPO": Interval(45.0, 41.0, 49.0), "warm start": Interval(38.0, 35.0, 41.0),
                "floor": Interval(37.0, 34.0, 40.0), "prior": Interval(55.0, 52.0, 58.0)},
        differences={("warm start", "GRPO"): Interval(7.0, 3.5, 10.5), ("floor", "GRPO"): Interval(8.0, 4.0, 12.0),
                     ("prior", "GRPO"): Interval(-10.0, -13.0, -7.0)})
    [text] = verdicts("temporal_grounding", [row])
    assert text == ("temporal_grounding, iou mIoU (96 held-out samples): GRPO 45.0 [41.0, 49.0]; it beat the warm start "
                    "(38.0 [35.0, 41.0]): +7.0 [+3.5, +10.5]; it beat the floor (37.0 [34.0, 40.0]): +8.0 [+4.0, +12.0]; "
                    "it did worse than the no-video prior (55.0 [52.0, 58.0]): -10.0 [-13.0, -7.0].")


def test_parsed_share_takes_the_worst_part_of_a_task():
    def unparsed(comp, value):
        return MetricComparison("grounded_qa", 10, comp, "unparsed", {"warm start": Interval(value, value, value)}, {})
    rows = {"grounded_qa": [unparsed("accuracy", 10.0), unparsed("iou", 30.0)]}
    assert parsed(rows, "warm start") == "grounded_qa 70%"


def test_answer_variety_counts_distinct_answers_and_the_most_common():
    answers = {
        "temporal_grounding": {"a": "<answer>1.0 to 4.0</answer>", "b": "<answer>1.0 to  4.0</answer>",
                               "c": "<answer>1.0 to 9.0</answer>"},
        "video_qa": {"a": "<answer>B</answer>", "b": "<answer>B</answer>"},
    }
    assert answer_variety(answers) == [
        "temporal_grounding: GRPO wrote 2 different answers for the 3 held-out videos; the most common, "
        "'<answer>1.0 to 4.0</answer>', for 2.",   # whitespace alone does not make an answer different
        "video_qa: GRPO wrote the same answer for all 2 held-out videos ('<answer>B</answer>').",
    ]
