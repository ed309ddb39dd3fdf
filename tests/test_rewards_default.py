"""The `default` profile: strict contract, robust numbers, validated predictions, total and bounded."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rewards import box_iou, merge_intervals, merged_iou, score_batch, score_one, temporal_iou

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
    # read as 10 to 30: intersection 12.5..17.8 = 5.3 s, union 10..30 = 20 s
    assert ground("10 to 45") == {"format": 1.0, "iou": pytest.approx(5.3 / 20), "total": pytest.approx(1 + 5.3 / 20)}
    assert ground("30 to 45") == {"format": 0.0, "iou": 0.0, "total": 0.0}  # nothing of it inside the video


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


# Each rule of the contract on its own: the answer in these is right, so only the rule can take the IoU away.
@pytest.mark.parametrize(
    "completion, fmt, iou",
    [
        ("<think>a</think><answer>12.5 to 17.8</answer><answer>12.5 to 17.8</answer>", 0.0, 0.0),  # two answers
        ("<think>a</think><answer>12.5 to 17.8</answer></answer>", 0.0, 0.0),          # a second closing tag
        ("<think>a</think><answer><answer>12.5 to 17.8</answer>", 0.0, 0.0),           # a second opening tag
        ("</answer><think>a</think><answer>12.5 to 17.8</answer>", 0.0, 0.0),          # closed before it opens
        ("<think>a</think>12.5 to 17.8</answer>", 0.0, 0.0),                          # never opened
        ("<think>a</think><answer>12.5 to 17.8", 0.0, 0.0),                           # never closed
        ("<think>a < b, c > d</think><answer>12.5 to 17.8</answer>", 1.0, 1.0),       # a '<' of the thinking
        ("<think></think><answer>12.5 to 17.8</answer>", 1.0, 1.0),                   # an empty thought
        ("<think>a</think></think><answer>12.5 to 17.8</answer>", 0.0, 1.0),          # the thinking is broken
        ("x<think>a</think><answer>12.5 to 17.8</answer>", 0.0, 1.0),                 # text before
        ("<think>a</think><answer>12.5 to 17.8</answer>x", 0.0, 1.0),                 # text after
        ("\t<think>a</think> \n <answer>12.5 to 17.8</answer>\n", 1.0, 1.0),          # whitespace only
    ],
)
def test_each_contract_rule(completion, fmt, iou):
    assert score_one("temporal_grounding", completion, SPAN) == {"format": fmt, "iou": iou, "total": fmt + iou}


def test_clock_times():
    from rewards.numbers import read_times

    assert read_times("from 1:02:03.5 to 1:02:10, then 0:12.5 - 2:05", 256) == [3723.5, 3730.0, 12.5, 125.0]
    truth = {"span": {"start": 62.5, "end": 125.0}, "duration": 300.0}
    assert score_one("temporal_grounding", "<think>a</think><answer>1:02.5 to 2:05</answer>", truth)["iou"] == 1.0


def test_answers_up_to_their_length_cap_are_read():
    """The caps that keep parsing linear: 256 characters for a span or a letter, 64 per box plus one box."""
    assert ground("12.5 to 17.8".ljust(256))["iou"] == 1.0 and ground("12.5 to 17.8".ljust(257))["iou"] == 0.0
    letter = f"<think>t</think><answer>{'C' + ' ' * 254 + 'x'}</answer><glue>[(13.8, 29.8)]</glue>"  # 256 after strip
    assert score_one("grounded_qa", letter, GQA)["accuracy"] == 1.0
    assert score_one("grounded_qa", letter.replace("x<", "xy<"), GQA)["accuracy"] == 0.0
    body = _track_answer(BOXES).split("<answer>")[1][: -len("</answer>")]
    cap = 64 * (len(BOXES) + 1)
    assert score_one("tracking", f"<answer>{body.ljust(cap)}</answer>", TRACK)["iou"] == pytest.approx(1.0)
    assert score_one("tracking", f"<answer>{body.ljust(cap + 1)}</answer>", TRACK)["iou"] == 0.0


def test_plain_box_lists_may_use_exponents():
    boxes = "[" + ", ".join(f"[{a:.3e}, {b:.3e}, {c:.3e}, {d:.3e}]" for a, b, c, d in BOXES) + "]"
    assert "e-01" in boxes
    assert score_one("tracking", f"<think>t</think><answer>{boxes}</answer>", TRACK) == {
        "format": 1.0, "iou": pytest.approx(1.0), "total": pytest.approx(2.0)}


@pytest.mark.parametrize("profile", ["default", "videochat-r1"])
def test_a_completion_that_is_not_text_scores_0(profile):
    for task, truth in (("temporal_grounding", SPAN), ("grounded_qa", GQA), ("tracking", TRACK)):
        got = score_batch(task, [None, 3], [truth] * 2, profile)
        assert set(got.total) == {0.0} and all(set(v) == {0.0} for v in got.components.values())


def test_no_think_variant():
    truth = {**SPAN, "think": False}
    assert score_one("temporal_grounding", "<answer>12.5 to 17.8</answer>", truth)["format"] == 1.0
    assert score_one("temporal_grounding", "<think>a</think><answer>12.5 to 17.8</answer>", truth)["format"] == 0.0


@pytest.mark.parametrize(
    "answer, is_letter, acc",
    [("C", 1, 1), ("(C)", 1, 1), ("C.", 1, 1), ("(C) unwrap it", 1, 1), ("Answer: C", 1, 1),
     ("The answer is (C)", 1, 1), ("the correct option: C", 1, 1), ("A", 1, 0), ("B", 1, 0),
     ("E", 1, 0),   # the fifth of five options
     ("F", 0, 0),   # beyond the five options: not an answer
     ("Dance.", 0, 0), ("c", 0, 0), ("Clearly C", 0, 0), ("CD", 0, 0), ("C" + " " * 300 + "because", 0, 0)],
)
def test_choice_letter(answer, is_letter, acc):
    """Format 1 only when the answer is a letter of one of the options; accuracy when it is the right one."""
    got = score_one("grounded_qa", f"<think>t</think><answer>{answer}</answer><glue>[(13.8, 29.8)]</glue>", GQA)
    assert got == {"format": is_letter, "accuracy": acc, "iou": pytest.approx(1.0), "total": pytest.approx(is_letter + acc + 1)}


@pytest.mark.parametrize(
    "glue, iou",
    [("[(13.8, 29.8)]", 1.0), ("[[13.8, 29.8]]", 1.0), ("13.8-20, 20-29.8", 1.0), ("[(10, 20), (25, 30)]", 0.55),
     ("[]", 0.0)],
)
def test_glue_forms(glue, iou):
    got = score_one("grounded_qa", f"<think>t</think><answer>C</answer><glue>{glue}</glue>", GQA)
    assert got["iou"] == pytest.approx(iou)
    assert got["format"] == 1.0


def test_glue_is_clipped_to_the_video():
    truth = {**GQA, "spans": [{"start": 10.0, "end": 20.0}], "duration": 20.0}
    got = score_one("grounded_qa", "<think>t</think><answer>C</answer><glue>[(15, 30)]</glue>", truth)
    assert got["iou"] == pytest.approx(0.5)  # read as 15 to 20: 5 s of the 10 s union
    got = score_one("grounded_qa", "<think>t</think><answer>C</answer><glue>[(12, 16), (25, 30)]</glue>", truth)
    assert got == {"format": 0.0, "accuracy": 1.0, "iou": 0.0, "total": 1.0}  # a pair wholly past the end


def test_what_the_default_profile_reads():
    from rewards import get_profile
    from schemas import get_task

    profile, task = get_profile("default"), get_task("grounded_qa")
    got = profile.read(task, "<think>t</think><answer>(B)</answer><glue>[(1, 2), (3, 4.5)]</glue>", GQA)
    assert got.predictions == {"answer": 1, "glue": [(1.0, 2.0), (3.0, 4.5)]} and got.well_formed is True
    got = profile.read(task, "<answer>(B)</answer><glue>[(2, 1)]</glue>", GQA)
    assert got.predictions == {"answer": 1, "glue": None} and got.well_formed is False
    got = profile.read(task, "<think>t</think> x <answer>(B)</answer><glue>[]</glue>", GQA)
    assert got.predictions == {"answer": 1, "glue": []} and got.well_formed is False  # text between the blocks
    text = "<think>t</think><answer>E</answer><glue>[]</glue>"
    assert profile.score(task, text, GQA) == {"format": 1.0, "accuracy": 0.0, "iou": 0.0}


def test_a_registered_profile_scores_by_its_name():
    from rewards import register_profile
    from rewards.profiles import _PROFILES

    class Constant:
        name, include_given = "test-constant", False

        def score(self, task, completion, truth):
            return {c: 0.25 for c in task.components}

    try:
        assert register_profile(Constant()).name == "test-constant"
        assert score_one("video_qa", "anything", GQA, profile="test-constant") == {"format": 0.25, "accuracy": 0.25, "total": 0.5}
        with pytest.raises(ValueError, match="already registered"):
            register_profile(Constant())
    finally:
        _PROFILES.remove("test-constant")


def _track_answer(boxes) -> str:
    return "<think>t</think><answer>[" + ", ".join(f"[{a}, {b}, {c}, {d}]" for a, b, c, d in boxes) + "]</answer>"


def test_tracking_does_not_reward_the_given_box():
    exact = score_one("tracking", _track_answer(BOXES), TRACK)
    assert exact == {"format": 1.0, "iou": pytest.approx(1.0), "total": pytest.approx(2.0)}
    only_first = [BOXES[0]] + [(0.9, 0.9, 0.95, 0.95)] * 7
    assert score_one("tracking", _track_answer(only_first), TRACK)["iou"] == 0.0
    copied = score_one("tracking", _track_answer([BOXES[0]] * 8), TRACK)["iou"]
    # box i is box 0 (0.3 x 0.4) moved 0.05 i to the right: IoU (0.3 - 0.05 i) / (0.3 + 0.05 i), 0 from i = 6
    assert copied == pytest.approx((5 / 7 + 4 / 8 + 3 / 9 + 2 / 10 + 1 / 11 + 0 + 0) / 7)


def test_tracking_scores_the_mean_iou_of_the_frames_after_the_given_one():
    boxes = list(BOXES)
    boxes[3] = (0.25, 0.2, 0.55, 0.8)   # truth (0.25, 0.2, 0.55, 0.6): IoU 0.12 / 0.18
    boxes[7] = (0.0, 0.0, 0.05, 0.05)   # no overlap: 0
    assert score_one("tracking", _track_answer(boxes), TRACK) == {
        "format": 1.0, "iou": pytest.approx((5 + 0.12 / 0.18) / 7), "total": pytest.approx(1 + (5 + 0.12 / 0.18) / 7)}


def test_boxes_on_the_frame_edges_are_answers():
    full = {"boxes": [{"t": i * 0.5, "x0": 0.0, "y0": 0.0, "x1": 1.0, "y1": 1.0} for i in range(8)]}
    assert score_one("tracking", _track_answer([(0, 0, 1, 1)] * 8), full) == {"format": 1.0, "iou": 1.0, "total": 2.0}
    assert score_one("tracking", _track_answer([(0.0, 0.0, 1.0, 0.5)] * 8), full)["iou"] == pytest.approx(0.5)


@pytest.mark.parametrize("coord, value", [(0, -0.2), (1, -0.2), (2, 1.2), (3, 1.2), (0, -0.0001)])
def test_a_box_outside_the_frame_makes_the_track_no_answer(coord, value):
    """One coordinate of one box outside [0, 1] (the box still x0 < x1, y0 < y1): the whole track is refused."""
    boxes = [list(b) for b in BOXES]
    boxes[1][coord] = value
    assert score_one("tracking", _track_answer(boxes), TRACK) == {"format": 0.0, "iou": 0.0, "total": 0.0}


def test_tracking_rejects_wrong_scale_and_count():
    thousand = [tuple(round(v * 1000) for v in b) for b in BOXES]
    assert score_one("tracking", _track_answer(thousand), TRACK) == {"format": 0.0, "iou": 0.0, "total": 0.0}
    assert score_one("tracking", _track_answer(BOXES[:7]), TRACK)["iou"] == 0.0
    for bad in ((0.5, 0.2, 0.2, 0.6), (0.2, 0.6, 0.5, 0.2), (0.2, 0.2, 0.2, 0.6), (0.2, 0.4, 0.5, 0.4)):
        inverted = list(BOXES)
        inverted[3] = bad  # x0 > x1, y0 > y1, or a box of zero width or height
        assert score_one("tracking", _track_answer(inverted), TRACK) == {"format": 0.0, "iou": 0.0, "total": 0.0}


HOSTILE = [
    "<think>" * 200_000,
    "<answer>" + "1" * 1_000_000 + "</answer>",
    "<think>" + "</think><answer>" * 60_000 + "</answer>",
    "<answer>" + "(" * 500_000 + "</answer><glue>" + "[(1," * 100_000 + "</glue>",
    "<answer>12.5 to 17.8</answer>" + "x" * 1_000_000,
    "<think>" + "a " * 500_000 + "</think><answer>12.5 to 17.8</answer><answer>12.5 to 17.8</answer>",
]
ZERO = {"temporal_grounding": {"format": 0.0, "iou": 0.0, "total": 0.0},
        "grounded_qa": {"format": 0.0, "accuracy": 0.0, "iou": 0.0, "total": 0.0},
        "tracking": {"format": 0.0, "iou": 0.0, "total": 0.0}}
BIG_THOUGHT = "<think>" + "let me look again. " * 55_000 + "</think>"   # about 1 MB


# The hang guard of the linear-time promise: a generous limit (these take well under a second), no timing.
@pytest.mark.timeout(120)
@pytest.mark.parametrize("task, truth", [("temporal_grounding", SPAN), ("grounded_qa", GQA), ("tracking", TRACK)])
@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_megabyte_scores_nothing(task, truth, text):
    """No contract followed, or answers too long to be one: every component 0."""
    got = score_one(task, text, truth)
    if text.startswith("<answer>12.5 to 17.8</answer>") and task == "temporal_grounding":
        assert got == {"format": 0.0, "iou": 1.0, "total": 1.0}  # the answer is read, the trailing text breaks the format
    else:
        assert got == ZERO[task]


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    "task, truth, answer, want",
    [
        ("temporal_grounding", SPAN, "<answer>12.5 to 17.8</answer>", {"format": 1.0, "iou": 1.0, "total": 2.0}),
        ("temporal_grounding", SPAN, "<answer>10 to 15</answer>", {"format": 1.0, "iou": 2.5 / 7.8, "total": 1 + 2.5 / 7.8}),
        ("grounded_qa", GQA, "<answer>C</answer><glue>[(10, 20), (25, 30)]</glue>",
         {"format": 1.0, "accuracy": 1.0, "iou": 0.55, "total": 2.55}),
        ("video_qa", GQA, "\n<answer>(B)</answer>\n", {"format": 1.0, "accuracy": 0.0, "total": 1.0}),
        ("tracking", TRACK, "<answer>" + _track_answer(BOXES).split("<answer>")[1], {"format": 1.0, "iou": 1.0, "total": 2.0}),
    ],
)
def test_a_valid_megabyte_completion_is_read_and_scored(task, truth, answer, want):
    """A thought of a megabyte before a valid answer: the answer is found and scored exactly."""
    text = BIG_THOUGHT + answer
    assert len(text) > 1_000_000
    got = score_one(task, text, truth)
    assert got == {k: pytest.approx(v) for k, v in want.items()}


# --- properties ----------------------------------------------------------------------------------

interval = st.tuples(st.floats(0, 100), st.floats(0, 100)).map(sorted).map(tuple)
box = st.tuples(st.floats(0, 1), st.floats(0, 1), st.floats(0, 1), st.floats(0, 1)).map(
    lambda b: (min(b[0], b[2]), min(b[1], b[3]), max(b[0], b[2]), max(b[1], b[3]))
)


def test_overlap_measures_by_hand():
    assert temporal_iou((0, 4), (2, 10)) == pytest.approx(2 / 10)
    assert box_iou((0, 0, 0.5, 0.5), (0.25, 0.25, 0.75, 0.75)) == pytest.approx(0.0625 / 0.4375)
    # touching intervals are joined, empty ones dropped
    assert merge_intervals([(5, 6), (0, 2), (1, 3), (3, 4), (7, 7)]) == [(0, 4), (5, 6)]
    # (0, 3) + (5, 6) against (2, 5): overlap 1 (2..3), union 4 + 3 - 1
    assert merged_iou([(0, 2), (1, 3), (5, 6)], [(2, 5)]) == pytest.approx(1 / 6)
    assert merged_iou([(0, 1), (2, 3), (4, 5)], [(0.5, 4.5)]) == pytest.approx(2 / 5)
    # the same set cut into touching pieces: summed in another order, the overlap came out 2e-16 above the union
    a = [(0.6675225633207504, 6.180607522652216), (9.530788151361282, 9.805236378513339)]
    b = [(0.6675225633207503, 0.9157432086192864), (0.9157432086192866, 6.180607522652216),
         (9.530788151361282, 9.596372496362298), (9.596372496362298, 9.805236378513339)]
    assert merged_iou(a, b) == 1.0


def test_overlap_measures_give_0_on_degenerate_input():
    """Inverted or empty intervals and boxes score 0, never raise (pure, total)."""
    assert temporal_iou((5, 4), (1, 9)) == temporal_iou((1, 9), (9, 1)) == temporal_iou((3, 3), (1, 9)) == 0.0
    assert temporal_iou((0, 1), (1, 2)) == 0.0  # touching
    assert merged_iou([], []) == 0.0 and merged_iou([(1, 1)], [(2, 2)]) == 0.0
    for inverted in ((0.5, 0.2, 0.1, 0.6), (0.1, 0.6, 0.5, 0.2)):
        assert box_iou(inverted, inverted) == 0.0
    assert box_iou((0.1, 0.2, 0.3, 0.4), (0.3, 0.2, 0.5, 0.4)) == 0.0  # touching
    tiny = (0.0, 0.0, 1e-200, 1e-200)  # its area underflows to 0
    assert box_iou(tiny, tiny) == 1.0
    assert box_iou(tiny, (0.0, 0.0, 2e-200, 1e-200)) == 0.0


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


def _boxes_truth(boxes):
    return {"boxes": [{"t": float(i), "x0": a, "y0": b, "x1": c, "y1": d} for i, (a, b, c, d) in enumerate(boxes)]}


def test_tracking_batches_score_each_completion_against_its_own_truth():
    """The batch path (one numpy pass) against values by hand: different truths in one batch, tracks of
    different lengths, a one-box track (nothing to find), boxes too small for their area, a truth box
    of zero width."""
    from rewards.components import boxtrack

    part = __import__("schemas").get_task("tracking").parts[0]
    a = _boxes_truth([(0, 0, 0.5, 0.5), (0, 0, 0.5, 0.5), (0.5, 0.5, 1, 1)])
    b = _boxes_truth([(0, 0, 0.5, 0.5), (0.5, 0.5, 1, 1), (0.5, 0.5, 1, 1)])
    same = [(0, 0, 0.5, 0.5), (0, 0, 0.5, 0.5), (0.5, 0.5, 1, 1)]     # = a: 1 on a, (0 + 1) / 2 on b
    assert boxtrack.score_many([same, same], [a, b], part) == [1.0, 0.5]
    long = _boxes_truth([(0, 0, 0.5, 0.5)] * 4)
    assert boxtrack.score_many([same, [(0, 0, 0.5, 0.5)] * 4], [a, long], part) == [1.0, 1.0]
    one = _boxes_truth([(0, 0, 0.5, 0.5)])
    assert boxtrack.score_many([[(0, 0, 0.5, 0.5)]] * 2, [one] * 2, part) == [0.0, 0.0]
    tiny = (0.0, 0.0, 1e-200, 1e-200)
    t = _boxes_truth([tiny, tiny, tiny])
    assert boxtrack.score_many([[tiny, tiny, (0, 0, 2e-200, 1e-200)]], [t], part) == [0.5]  # identical: 1; else 0
    flat = _boxes_truth([(0, 0, 0.5, 0.5), (0.2, 0, 0.2, 0.5), (0.5, 0.5, 1, 1)])  # box 1 has no width
    assert boxtrack.score_many([[(0, 0, 0.5, 0.5), (0.1, 0, 0.3, 0.5), (0.5, 0.5, 1, 1)]], [flat], part) == [0.5]
    for preds, truths in (([same, same], [a, b]), ([[tiny, tiny, (0, 0, 2e-200, 1e-200)]], [t])):
        assert boxtrack.score_many(preds, truths, part) == [boxtrack.score(p, x, part) for p, x in zip(preds, truths)]


def test_batch_matches_single_and_weights_apply():
    comps = ["<think>a</think><answer>12.5 to 17.8</answer>", "<answer>10 to 15</answer>", "nothing"]
    batch = score_batch("temporal_grounding", comps, [SPAN] * 3, weights={"format": 0.5})
    # by hand: format 1, 0, 0; IoU 1, (15 - 12.5) / (17.8 - 10), 0
    assert batch.components == {"format": [1.0, 0.0, 0.0], "iou": [pytest.approx(1.0), pytest.approx(2.5 / 7.8), 0.0]}
    assert batch.total == [pytest.approx(1.5), pytest.approx(2.5 / 7.8), 0.0]
    assert batch.row(1) == {"format": 0.0, "iou": pytest.approx(2.5 / 7.8), "total": pytest.approx(2.5 / 7.8)}
    for i, c in enumerate(comps):
        assert score_one("temporal_grounding", c, SPAN)["iou"] == batch.components["iou"][i]
    with pytest.raises(KeyError, match="no components"):
        score_batch("temporal_grounding", comps, [SPAN] * 3, weights={"accuracy": 1.0})
    with pytest.raises(ValueError, match="3 completions but 2 truths"):
        score_batch("temporal_grounding", comps, [SPAN] * 2)


def test_every_pair_of_profiles_and_tasks_is_defined():
    from rewards import profile_names

    for profile, (task, truth) in itertools.product(profile_names(), TASK_TRUTHS):
        assert set(score_one(task, "", truth, profile)) == {"total", *__import__("schemas").get_task(task).components}
