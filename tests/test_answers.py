"""Answers written from predictions read back as those predictions: the truth's own answer scores full
marks under both profiles, and every label type's render is the inverse of its parse."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rewards import component_for, floor_answer, oracle_answer, profile_names, score_one, write_answer
from schemas import get_task

TRUTHS = {
    "temporal_grounding": {"span": {"start": 3.4, "end": 10.5}, "duration": 30.74},
    "grounded_qa": {"choices": list("abcde"), "answer_index": 2, "duration": 90.0,
                    "spans": [{"start": 13.8, "end": 29.8}, {"start": 40.0, "end": 45.25}]},
    "video_qa": {"choices": ["left", "right", "up", "down"], "answer_index": 3},
    "tracking": {"boxes": [{"t": i / 10, "x0": 0.1 + i / 100, "y0": 0.2, "x1": 0.4 + i / 100, "y1": 0.6} for i in range(8)]},
}


@pytest.mark.parametrize("profile", ["default", "videochat-r1"])
@pytest.mark.parametrize("task", sorted(TRUTHS))
def test_oracle_answer_scores_full_marks(task, profile):
    assert profile in profile_names()
    for think in (True, False):
        truth = {**TRUTHS[task], "task": task, "think": think}
        got = score_one(task, oracle_answer(task, truth), truth, profile)
        if profile == "videochat-r1" and not think:
            got.pop("format")  # the reference knows only the thinking contract
        assert all(v == pytest.approx(1.0) for k, v in got.items() if k != "total"), got


def test_floor_answers():
    g = floor_answer("temporal_grounding", TRUTHS["temporal_grounding"], "whole-video")
    assert g == "<think>baseline</think><answer>0.00 to 30.74</answer>"
    assert floor_answer("video_qa", TRUTHS["video_qa"], "whole-video") is None
    qa = floor_answer("grounded_qa", TRUTHS["grounded_qa"], "whole-video")
    assert qa == "<think>baseline</think><answer></answer><glue>[(0.00, 90.00)]</glue>"
    no_think = {**TRUTHS["temporal_grounding"], "think": False}
    assert floor_answer("temporal_grounding", no_think, "whole-video") == "<answer>0.00 to 30.74</answer>"
    assert floor_answer("temporal_grounding", no_think, "copy-first-box") is None  # not this task's floor
    track = floor_answer("tracking", {**TRUTHS["tracking"], "think": False}, "copy-first-box")
    assert track == "<answer>[" + ", ".join(["[0.100, 0.200, 0.400, 0.600]"] * 8) + "]</answer>"


def test_oracle_and_written_answers():
    assert oracle_answer("video_qa", TRUTHS["video_qa"]) == "<think>...</think><answer>D</answer>"  # think by default
    assert oracle_answer("video_qa", {**TRUTHS["video_qa"], "think": False}) == "<answer>D</answer>"
    assert write_answer("grounded_qa", {"answer": 1}, think=True) == "<think>...</think><answer>B</answer><glue></glue>"
    assert write_answer("temporal_grounding", {"answer": (1, 2.5)}, think=False) == "<answer>1.00 to 2.50</answer>"


box = st.tuples(st.integers(0, 999), st.integers(0, 999), st.integers(1, 1000), st.integers(1, 1000)).map(
    lambda b: (b[0] / 1000, b[1] / 1000, max(b[0] + 1, b[2]) / 1000, max(b[1] + 1, b[3]) / 1000)
).filter(lambda b: b[2] <= 1 and b[3] <= 1)


@settings(max_examples=100, deadline=None)
@given(st.lists(box, min_size=8, max_size=8),
       st.tuples(st.integers(0, 3000), st.integers(1, 3000)).map(lambda p: (p[0] / 100, (p[0] + p[1]) / 100)))
def test_render_is_the_inverse_of_parse(boxes, span):
    track, part_t = {"boxes": [{"t": 0.0} for _ in boxes]}, get_task("tracking").parts[0]
    comp = component_for("boxtrack")
    assert comp.parse(comp.render(boxes), track, part_t) == boxes
    part_s = get_task("temporal_grounding").parts[0]
    comp = component_for("span")
    assert comp.parse(comp.render(span), {"duration": 100.0}, part_s) == pytest.approx(span)
    comp = component_for("spanset")
    back = comp.parse(comp.render([span, span]), {"duration": 100.0}, get_task("grounded_qa").parts[1])
    assert [x for iv in back for x in iv] == pytest.approx([*span, *span])


ANSWER_FIELDS = {"span": {"start": 20.0, "end": 25.0}, "answer_index": 0,
                 "spans": [{"start": 1.0, "end": 2.0}]}


@pytest.mark.parametrize("task", sorted(TRUTHS))
def test_guesses_follow_the_contract_and_ignore_the_answer(task):
    """A guess is well formed (format 1 under the default profile) and is the same whatever the
    answer is: it uses only what the prompt states (duration, options, frame count)."""
    import random

    from rewards import guess_answer

    for think in (True, False):
        truth = {**TRUTHS[task], "task": task, "think": think}
        other = {**truth, **{k: v for k, v in ANSWER_FIELDS.items() if k in truth}}
        if task == "tracking":
            other["boxes"] = [{**b, "x0": 0.5, "x1": 0.9} for b in truth["boxes"]]
        texts = [guess_answer(task, t, random.Random(7)) for t in (truth, other)]
        assert texts[0] == texts[1]
        assert score_one(task, texts[0], truth, "default")["format"] == 1.0
    draws = {guess_answer(task, {**TRUTHS[task], "task": task}, random.Random(s)) for s in range(20)}
    assert len(draws) == (1 if task == "tracking" else len(draws)) and (task == "tracking" or len(draws) > 3)
