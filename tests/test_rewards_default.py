"""The `default` profile: strict contract, robust numbers, validated predictions, total and bounded."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rewards import box_iou, merged_iou, score_batch, score_one, temporal_iou

SPAN = {"span": {"start": 12.5, "end": 17.8}, "duration": 30.0}
GQA = {"choices": list("abcde"), "answer_index": 2, "spans": [{"start": 13.8, "end": 29.8}], "duration": 90.0}
BOXES = [(0.1 + 0.05 * i, 0.2, 0.4 + 0.05 * i, 0.6) for i in range(8)]
TRACK = {"boxes": [{"t": i * 0.5, "x0": b[0], "y0": b[1], "x1": b[2], "y1": b[3]} for i, b in enumerate(BOXES)]}


def ground(answer: str) -> dict[str, float]:
    return score_one("temporal_grounding", f"<think>r</think><answer>{answer}</answer>", SPAN)


@pytest.mark.parametrize(
    "answer",
    ["12.5 to 17.8", "12.5-17.8", "[12.5, 17.8]", "12.5s - 17.8s", "from 12.50 seconds to 17.80 seconds",
     "12.5 and 17.8", "0:12.5 to 0:17.8", "(12.5, 17.8)."],
)
def test_span_numbers_are_read_robustly(answer):
    assert ground(answer) == {"format": 1.0, "iou": pytest.approx(1.0), "total": pytest.approx(2.0)}


@pytest.mark.parametrize(
    "answer",
    ["17.8 to 12.5", "12.5 to 12.5", "12.5", "12.5 to 17.8, or 20 to 25", "", "soon", "40 to 50", "1" * 300],
)
def test_invalid_spans_score_nothing(answer):
    assert ground(answer) == {"format": 0.0, "iou": 0.0, "total": 0.0}


def test_span_is_clipped_to_the_video():
    got = ground("20 to 45")  # duration 30: read as 20 to 30
    assert got["format"] == 1.0 and got["iou"] == 0.0
    assert ground("10 to 45")["iou"] == pytest.approx(temporal_iou((10, 30), (12.5, 17.8)))


@pytest.mark.parametrize(
    "completion, fmt, iou",
    [
        ("<think>a</think><answer>1 to 2</answer><answer>12.5 to 17.8</answer>", 0.0, 0.0),  # two answers
        ("<think>x <answer>12.5 to 17.8</answer></think>", 0.0, 0.0),  # answer inside the thinking
        ("<answer>12.5 to 17.8</answer>", 0.0, 1.0),  # thinking missing: content still scored
        ("<think>a</think> junk <answer>12.5 to 17.8</answer>", 0.0, 1.0),  # text outside the blocks
        ("  <think>a</think>\n\n<answer>12.5 to 17.8</answer>\n", 1.0, 1.0),
        ("<answer>12.5 to 17.8</answer><think>a</think>", 0.0, 1.0),  # wrong order
    ],
)
def test_contract_is_read_exactly(completion, fmt, iou):
    got = score_one("temporal_grounding", completion, SPAN)
    assert (got["format"], got["iou"]) == (fmt, pytest.approx(iou))


def test_no_think_variant():
    truth = {**SPAN, "think": False}
    assert score_one("temporal_grounding", "<answer>12.5 to 17.8</answer>", truth)["format"] == 1.0
    assert score_one("temporal_grounding", "<think>a</think><answer>12.5 to 17.8</answer>", truth)["format"] == 0.0


@pytest.mark.parametrize(
    "answer, acc",
    [("C", 1), ("(C)", 1), ("C.", 1), ("(C) unwrap it", 1), ("Answer: C", 1), ("The answer is (C)", 1),
     ("Dance.", 0), ("c", 0), ("B", 0), ("F", 0), ("Clearly C", 0)],
)
def test_choice_letter(answer, acc):
    got = score_one("grounded_qa", f"<think>t</think><answer>{answer}</answer><glue>[(13.8, 29.8)]</glue>", GQA)
    assert got["accuracy"] == acc
    assert got["iou"] == pytest.approx(1.0)


@pytest.mark.parametrize(
    "glue, iou",
    [("[(13.8, 29.8)]", 1.0), ("[[13.8, 29.8]]", 1.0), ("13.8-20, 20-29.8", 1.0), ("[(10, 20), (25, 30)]", 0.55),
     ("[]", 0.0)],
)
def test_glue_forms(glue, iou):
    got = score_one("grounded_qa", f"<think>t</think><answer>C</answer><glue>{glue}</glue>", GQA)
    assert got["iou"] == pytest.approx(iou)
    assert got["format"] == 1.0


def _track_answer(boxes) -> str:
    return "<think>t</think><answer>[" + ", ".join(f"[{a}, {b}, {c}, {d}]" for a, b, c, d in boxes) + "]</answer>"


def test_tracking_does_not_reward_the_given_box():
    exact = score_one("tracking", _track_answer(BOXES), TRACK)
    assert exact == {"format": 1.0, "iou": pytest.approx(1.0), "total": pytest.approx(2.0)}
    only_first = [BOXES[0]] + [(0.9, 0.9, 0.95, 0.95)] * 7
    assert score_one("tracking", _track_answer(only_first), TRACK)["iou"] == 0.0
    copied = score_one("tracking", _track_answer([BOXES[0]] * 8), TRACK)["iou"]
    assert copied == pytest.approx(sum(box_iou(BOXES[0], b) for b in BOXES[1:]) / 7)


def test_tracking_rejects_wrong_scale_and_count():
    thousand = [tuple(round(v * 1000) for v in b) for b in BOXES]
    assert score_one("tracking", _track_answer(thousand), TRACK) == {"format": 0.0, "iou": 0.0, "total": 0.0}
    assert score_one("tracking", _track_answer(BOXES[:7]), TRACK)["iou"] == 0.0
    inverted = list(BOXES)
    inverted[3] = (0.5, 0.6, 0.2, 0.2)
    assert score_one("tracking", _track_answer(inverted), TRACK) == {"format": 0.0, "iou": 0.0, "total": 0.0}


HOSTILE = [
    "<think>" * 200_000,
    "<answer>" + "1" * 1_000_000 + "</answer>",
    "<think>" + "</think><answer>" * 60_000 + "</answer>",
    "<answer>" + "(" * 500_000 + "</answer><glue>" + "[(1," * 100_000 + "</glue>",
    "<think>" + "a " * 500_000 + "</think><answer>12.5 to 17.8</answer>",
]


@pytest.mark.parametrize("task, truth", [("temporal_grounding", SPAN), ("grounded_qa", GQA), ("tracking", TRACK)])
@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_megabyte_is_scored(task, truth, text):
    got = score_one(task, text, truth)
    assert set(got) >= {"format", "total"} and all(0.0 <= v <= 3.0 for v in got.values())


# --- properties ----------------------------------------------------------------------------------

interval = st.tuples(st.floats(0, 100), st.floats(0, 100)).map(sorted).map(tuple)
box = st.tuples(st.floats(0, 1), st.floats(0, 1), st.floats(0, 1), st.floats(0, 1)).map(
    lambda b: (min(b[0], b[2]), min(b[1], b[3]), max(b[0], b[2]), max(b[1], b[3]))
)


@given(interval, interval)
def test_temporal_iou_symmetric_bounded(a, b):
    assert temporal_iou(a, b) == temporal_iou(b, a)
    assert 0.0 <= temporal_iou(a, b) <= 1.0
    if a[0] < a[1]:
        assert temporal_iou(a, a) == 1.0


@given(st.lists(interval, max_size=5), st.lists(interval, max_size=5))
def test_merged_iou_symmetric_bounded(a, b):
    assert merged_iou(a, b) == pytest.approx(merged_iou(b, a))
    assert 0.0 <= merged_iou(a, b) <= 1.0
    if any(s < e for s, e in a):
        assert merged_iou(a, a) == pytest.approx(1.0)


@given(box, box)
def test_box_iou_symmetric_bounded(a, b):
    assert box_iou(a, b) == box_iou(b, a)
    assert 0.0 <= box_iou(a, b) <= 1.0
    if a[0] < a[2] and a[1] < a[3]:
        assert box_iou(a, a) == 1.0


TASK_TRUTHS = [("temporal_grounding", SPAN), ("grounded_qa", GQA), ("video_qa", GQA), ("tracking", TRACK)]
TAGGY = st.lists(
    st.sampled_from(["<think>", "</think>", "<answer>", "</answer>", "<glue>", "</glue>", " ", "\n", "to", "-",
                     ",", "[", "]", "(", ")", "C", "12.5", "17.8", "0.3", "0.9", "1e9", "nan", "-1", "\x00", "é"]),
    max_size=40,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=300), TAGGY))
def test_any_string_scores_in_range(text):
    for task, truth in TASK_TRUTHS:
        got = score_one(task, text, truth)
        for name, value in got.items():
            if name != "total":
                assert 0.0 <= value <= 1.0, (task, name, value)


@settings(max_examples=200, deadline=None)
@given(st.permutations(range(8)), st.lists(st.tuples(st.floats(-0.02, 0.02), st.floats(-0.02, 0.02)), min_size=8, max_size=8))
def test_permuting_boxes_cannot_raise_the_score(order, jitter):
    boxes = [(x0 + dx, y0 + dy, x1 + dx, y1 + dy) for (x0, y0, x1, y1), (dx, dy) in zip(BOXES, jitter)]
    in_order = score_one("tracking", _track_answer(boxes), TRACK)["total"]
    permuted = score_one("tracking", _track_answer([boxes[i] for i in order]), TRACK)["total"]
    assert permuted <= in_order + 1e-12


track_values = st.sampled_from([0.0, 0.1, 0.25, 0.3, 0.5, 0.55, 0.7, 0.9, 1.0, 1e-300, 1.2, -0.1])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.tuples(track_values, track_values, track_values, track_values), min_size=8, max_size=8),
                min_size=1, max_size=6))
def test_vectorized_tracking_equals_scalar(tracks):
    from rewards.components import boxtrack

    part = __import__("schemas").get_task("tracking").parts[0]
    truths = [TRACK] * len(tracks)
    assert boxtrack.score_many(tracks, truths, part) == [boxtrack.score(t, TRACK, part) for t in tracks]


def test_batch_matches_single_and_weights_apply():
    comps = ["<think>a</think><answer>12.5 to 17.8</answer>", "<answer>10 to 15</answer>", "nothing"]
    batch = score_batch("temporal_grounding", comps, [SPAN] * 3, weights={"format": 0.5})
    for i, c in enumerate(comps):
        single = score_one("temporal_grounding", c, SPAN)
        assert batch.components["iou"][i] == single["iou"]
        assert batch.total[i] == pytest.approx(0.5 * single["format"] + single["iou"])
    with pytest.raises(KeyError):
        score_batch("temporal_grounding", comps, [SPAN] * 3, weights={"accuracy": 1.0})


def test_every_pair_of_profiles_and_tasks_is_defined():
    from rewards import profile_names

    for profile, (task, truth) in itertools.product(profile_names(), TASK_TRUTHS):
        assert set(score_one(task, "", truth, profile)) == {"total", *__import__("schemas").get_task(task).components}
