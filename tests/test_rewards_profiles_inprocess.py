"""In-process checks of what the reward profiles admit, how the videochat-r1 profile reads tracks and glue
numbers, and how comparisons read their intervals. The CLI tests reach these through subprocesses; these
call them directly, with every expected value worked out by hand from the rule it states."""

from __future__ import annotations

import dataclasses

import pytest

from rewards import get_profile
from rewards.compare import MetricComparison, compare_task
from rewards.intervals import Interval, _quantile
from rewards.profiles import Admitted, TruthRefused
from rewards.profiles.videochat_r1 import (
    _not_eight_elements,
    _number_literal,
    _numbers,
    _unread_boxes,
    _unread_choice,
    _unread_span,
    _unread_spans,
    parse_glue,
    parse_track,
    reference_merge,
)
from schemas import get_task
from schemas.repairs import RepairPolicy

R1 = get_profile("videochat-r1")
DEFAULT = get_profile("default")
POLICY = RepairPolicy()
QA = {"choices": ["a", "b"], "answer_index": 1, "spans": [{"start": 1.0, "end": 2.0}], "duration": 9.0}
BOX = {"t": 0.0, "x0": 0.0, "y0": 0.0, "x1": 1.0, "y1": 1.0}
TRACK = [{**BOX, "t": i / 10} for i in range(8)]
ANSWER8 = "[" + ", ".join(["[0, 0, 1, 1]"] * 8) + "]"


# --- what videochat-r1 admits ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "task, truth",
    [
        ("temporal_grounding", {"span": {"start": 1.0, "end": 4.0}, "duration": 10.0}),
        ("grounded_qa", QA),
        ("video_qa", {"choices": ["a", "b", "c"], "answer_index": 0}),
        ("tracking", {"boxes": TRACK}),
    ],
)
def test_videochat_r1_admits_a_clean_truth_as_given(task, truth):
    assert R1.admit(get_task(task), truth, POLICY) == Admitted(truth, repairs=(), warnings=())


@pytest.mark.parametrize(
    "span, warnings",
    [
        # within the 2 s tolerance the default profile would clip; the reference scores it as published
        ({"start": 2.0, "end": 11.0}, ("span_past_end (span): end 11.0 > duration 10.0",)),
        ({"start": 8.0, "end": 2.0}, ("span_inverted (span): start 8.0 > end 2.0",)),
        ({"start": -1.0, "end": 11.0},
         ("span_negative_start (span): start -1.0 < 0", "span_past_end (span): end 11.0 > duration 10.0")),
    ],
)
def test_videochat_r1_admits_what_the_checks_refuse_with_warnings(span, warnings):
    truth = {"span": span, "duration": 10.0}
    got = R1.admit(get_task("temporal_grounding"), truth, POLICY)
    assert got == Admitted({"span": span, "duration": 10.0}, repairs=(), warnings=warnings)


def test_videochat_r1_admits_an_answer_index_past_the_options_that_still_has_a_letter():
    truth = {"choices": ["a", "b"], "answer_index": 2}                    # C: the reference reads it
    got = R1.admit(get_task("video_qa"), truth, POLICY)
    assert got == Admitted(truth, warnings=("answer_index_out_of_range (answer_index): 2 not in [0, 2)",))


def test_videochat_r1_warns_of_a_zero_width_box_and_keeps_it():
    boxes = TRACK[:7] + [{**TRACK[7], "x1": 0.0}]
    got = R1.admit(get_task("tracking"), {"boxes": boxes}, POLICY)
    assert got.truth == {"boxes": boxes}
    assert got.warnings == ("box_inverted (boxes[7]): need x0 < x1 and y0 < y1, got [0.0, 0.0, 0.0, 1.0]",)


@pytest.mark.parametrize(
    "task, truth, message",
    [
        ("temporal_grounding", {"span": {"start": "3", "end": 9.0}, "duration": 30.0},
         "span_not_numeric (span): start='3' end=9.0"),
        ("temporal_grounding", {"span": [3, 9], "duration": 30.0}, "span_missing (span): expected {start, end}, got list"),
        ("video_qa", {"choices": ["a", "b"], "answer_index": True}, "answer_index_missing (answer_index): got True"),
        ("video_qa", {"choices": ["a", "b"], "answer_index": 26}, "answer_index_out_of_range (answer_index): 26 not in [0, 2)"),
        ("grounded_qa", {**QA, "spans": {"start": 1.0, "end": 2.0}}, "spans_missing (spans): expected a list, got dict"),
        # two reasons, in the task's label order, joined
        ("grounded_qa", {**QA, "answer_index": True, "spans": "x"},
         "answer_index_missing (answer_index): got True; spans_missing (spans): expected a list, got str"),
        ("tracking", {"boxes": TRACK[:7] + [{"t": 0.7, "x0": 0.0, "y0": 0.0, "x1": 1.0}]},
         "box_not_numeric (boxes[7]): coordinates [0.0, 0.0, 1.0, None]"),
    ],
)
def test_videochat_r1_refuses_what_the_reference_cannot_read_in_the_checks_words(task, truth, message):
    with pytest.raises(TruthRefused) as err:
        R1.admit(get_task(task), truth, POLICY)
    assert str(err.value) == message


def test_videochat_r1_refuses_a_task_it_has_no_rule_for():
    other = dataclasses.replace(get_task("temporal_grounding"), name="my_grounding")
    with pytest.raises(TruthRefused) as err:
        R1.admit(other, {"span": {"start": 1.0, "end": 4.0}, "duration": 10.0}, POLICY)
    assert str(err.value) == "the videochat-r1 profile has no rule for task 'my_grounding'"


def test_what_the_reference_reads_of_a_span():
    why = "no span with a numeric start and end"
    assert _unread_span({"span": {"start": 1, "end": 2.5}}) is None
    assert _unread_span({"span": {"start": "1", "end": 2.5}}) == why
    assert _unread_span({"span": {"start": 1.0}}) == why        # no end
    assert _unread_span({"span": {"end": 2.0}}) == why          # no start
    assert _unread_span({"span": [1.0, 2.0]}) == why
    assert _unread_span({}) == why


def test_what_the_reference_reads_of_spans():
    why = "no list of spans with numeric starts and ends"
    assert _unread_spans({"spans": [{"start": 1.0, "end": 2.0}, {"start": 4, "end": 3}]}) is None  # inverted is read
    assert _unread_spans({"spans": ({"start": 1.0, "end": 2.0},)}) is None
    assert _unread_spans({"spans": [{"start": 1.0, "end": 2.0}, {"start": 4.0}]}) == why
    assert _unread_spans({"spans": [{"end": 2.0}]}) == why
    assert _unread_spans({"spans": ""}) == why                   # not a list, though it holds no bad span
    assert _unread_spans({"spans": {"start": 1.0, "end": 2.0}}) == why
    assert _unread_spans({}) == why


@pytest.mark.parametrize(
    "truth, readable",
    [
        ({"choices": ["a", "b"], "answer_index": 0}, True),
        ({"choices": ("a", "b"), "answer_index": 1}, True),
        ({"choices": ["a", "b"], "answer_index": 25}, True),    # Z: a letter, though no such option
        ({"choices": ["a", "b"], "answer_index": 26}, False),   # past the 26 letters
        ({"choices": ["a", "b"], "answer_index": -1}, False),
        ({"choices": ["a", "b"], "answer_index": True}, False),  # a bool is no index
        ({"choices": ["a", "b"], "answer_index": "1"}, False),
        ({"choices": ["a", "b"]}, False),
        ({"choices": "ab", "answer_index": 0}, False),
        ({"answer_index": 0}, False),
    ],
)
def test_what_the_reference_reads_of_a_choice(truth, readable):
    assert _unread_choice(truth) == (None if readable else "no options with an answer index that has a letter")


@pytest.mark.parametrize("missing", ["x0", "y0", "x1", "y1"])
def test_a_box_missing_one_coordinate_is_unread(missing):
    why = "no list of boxes with numeric x0, y0, x1, y1"
    assert _unread_boxes({"boxes": TRACK}) is None
    assert _unread_boxes({"boxes": tuple(TRACK)}) is None
    bad = {k: v for k, v in BOX.items() if k != missing}
    assert _unread_boxes({"boxes": TRACK[:3] + [bad]}) == why
    assert _unread_boxes({"boxes": TRACK[:3] + [{**BOX, missing: "0.5"}]}) == why
    assert _unread_boxes({"boxes": ""}) == why
    assert _unread_boxes({}) == why


def test_numbers_needs_a_mapping_with_every_key_a_finite_number():
    assert _numbers({"a": 1, "b": 2.5, "c": "x"}, ("a", "b"))
    assert not _numbers({"a": 1, "b": True}, ("a", "b"))
    assert not _numbers({"a": 1}, ("a", "b"))
    assert not _numbers({"a": 1, "b": float("inf")}, ("a", "b"))
    assert not _numbers((("a", 1), ("b", 2)), ("a", "b"))


# --- what default admits ---------------------------------------------------------------------------


def test_default_admits_after_the_repair_policy():
    task = get_task("temporal_grounding")
    truth = {"span": {"start": 3.0, "end": 11.0}, "duration": 10.0}  # 1 s past the end: clipped
    got = DEFAULT.admit(task, truth, POLICY)
    assert got == Admitted({"span": {"start": 3.0, "end": 10.0}, "duration": 10.0}, repairs=("span_end_clipped",))
    clean = {"span": {"start": 3.0, "end": 4.0}, "duration": 10.0}
    assert DEFAULT.admit(task, clean, POLICY) == Admitted(clean, repairs=(), warnings=())
    with pytest.raises(TruthRefused) as err:  # a tighter policy leaves it past the end
        DEFAULT.admit(task, truth, RepairPolicy(clip_tolerance_s=0.5))
    assert str(err.value) == "span_past_end (span): end 11.0 > duration 10.0"


@pytest.mark.parametrize(
    "task, truth, message",
    [
        ("temporal_grounding", {"span": {"start": 8.0, "end": 2.0}, "duration": 10.0}, "span_inverted (span): start 8.0 > end 2.0"),
        ("grounded_qa", {**QA, "answer_index": True, "spans": "x"},
         "answer_index_missing (answer_index): got True; spans_missing (spans): expected a list, got str"),
    ],
)
def test_default_refuses_what_the_checks_refuse(task, truth, message):
    with pytest.raises(TruthRefused) as err:
        DEFAULT.admit(get_task(task), truth, POLICY)
    assert str(err.value) == message


# --- tracks and glue as the reference parses them --------------------------------------------------


@pytest.mark.parametrize(
    "text, not_eight",
    [
        ("[1, 2, 3]", True),
        ("[1,2,3,4,5,6,7,8]", False),
        ("[1,2,3,4,5,6,7,8,]", False),            # a trailing comma adds no item
        ("[1,2,3,4,5,6,7,8,9]", True),
        ("[1,2,3,]", True),
        ("[]", True),
        ("[[1, 2], [3, 4]]", True),               # commas inside an item do not count
        ("[X, Y]", True),                         # names are no literal either way
        (" \t[1, 2, 3]\t ", True),
        ("[1,, 2]", False),                       # an empty item: the parser says what it is
        ("[1] [2]", False),                       # the outer list closes early
        ("[[1, 2]", False),                       # unbalanced
        ("(1, 2)", False),
        ("[1, '2']", False),                      # a quote could hide brackets
        ("[1, 2 # ]", False),
    ],
)
def test_not_eight_elements_is_sure_only_when_it_can_be(text, not_eight):
    assert _not_eight_elements(text) is not_eight


def test_not_eight_elements_past_pythons_nesting_limit():
    def eight(depth: int) -> str:
        return "[" + ",".join(["[" * depth + "]" * depth] * 8) + "]"

    assert _not_eight_elements(eight(199)) is False   # 200 deep: the parser decides
    assert _not_eight_elements(eight(200)) is True    # 201 deep: no literal at all


def test_parse_track_reads_eight_boxes_of_four_as_python_literals():
    got = parse_track("[" + ", ".join(["[0, 0.5, 1, 1.]"] * 8) + "]")
    assert got == [[0, 0.5, 1, 1.0]] * 8
    assert [type(v) for v in got[0]] == [int, float, int, float]
    box = "[0, 0, 1, 1]"
    for n in (7, 9):
        assert parse_track("[" + ", ".join([box] * n) + "]") is None
    assert parse_track("[" + ", ".join([box] * 7 + ["[0, 0, 1]"]) + "]") is None
    assert parse_track("[" + ", ".join([box] * 8) + ",]") == [[0, 0, 1, 1]] * 8


def test_parse_track_removes_newlines_before_reading():
    # a newline inside a number joins it: "0.\n5" is 0.5; between boxes it is nothing
    answer = "[[0, 0, 0.\n5, 1],\n" + ", ".join(["[0, 0, 1, 1]"] * 7) + "]"
    assert parse_track(answer) == [[0, 0, 0.5, 1]] + [[0, 0, 1, 1]] * 7


def test_tracking_format_reads_the_block_as_written():
    """A newline splitting </answer> hides it from the format's reading but not from the IoU's."""
    task, truth = get_task("tracking"), {"boxes": TRACK}
    clean = f"<think>a</think><answer>{ANSWER8}</answer>"
    assert R1.score(task, clean, truth) == {"format": 1.0, "iou": 1.0}
    split = f"<think>a</think><answer>{ANSWER8}</ans\nwer>junk</answer>"
    assert R1.score(task, split, truth) == {"format": 0.0, "iou": 1.0}


@pytest.mark.parametrize("token, value", [("0", 0), ("000", 0), ("7", 7), ("10", 10), ("07.5", 7.5), ("0.25", 0.25)])
def test_number_literal_reads_as_python(token, value):
    got = _number_literal(token)
    assert got == value and type(got) is type(value)


def test_number_literal_refuses_leading_zeros_as_python_does():
    with pytest.raises(SyntaxError, match="^leading zeros in decimal integer literals are not permitted$"):
        _number_literal("07")
    assert parse_glue("[(01, 2)]") is None
    assert parse_glue("[(00, 2)]") == [(0, 2)]


@pytest.mark.parametrize(
    "intervals, merged",
    [
        ([(5, 6), (1, 3), (2, 4)], [[1, 4], [5, 6]]),
        ([(1, 2), (2, 3)], [[1, 3]]),             # touching intervals join
        ([(1, 3), (0, 5)], [[0, 5]]),             # sorted by start, not end
        ([(2, 1), (2, 0)], [[2, 1], [2, 0]]),     # by start alone, stably: inverted ones kept in order
        ([], []),
    ],
)
def test_reference_merge(intervals, merged):
    assert reference_merge(intervals) == merged


# --- verdicts and quantiles ------------------------------------------------------------------------


def comparison(metric, low, high):
    return MetricComparison("temporal_grounding", 10, "iou", metric, {}, {("A", "B"): Interval((low + high) / 2, low, high)})


@pytest.mark.parametrize(
    "low, high, verdict",
    [
        (0.5, 2.0, "beat"),
        (0.2, 0.8, "beat"),
        (-2.0, -0.5, "worse"),
        (-0.8, -0.2, "worse"),
        (0.0, 2.0, "no clear difference"),       # touching zero is not above it
        (-2.0, 0.0, "no clear difference"),
        (-0.5, 0.5, "no clear difference"),
        (-3.0, 1.0, "no clear difference"),
    ],
)
def test_verdict_reads_the_difference_interval(low, high, verdict):
    assert comparison("mIoU", low, high).verdict("A", "B") == verdict


@pytest.mark.parametrize(
    "low, high, verdict",
    [(-30.0, -10.0, "beat"), (10.0, 30.0, "worse"), (-10.0, 0.0, "no clear difference"), (0.0, 10.0, "no clear difference")],
)
def test_verdict_on_unparsed_answers_counts_fewer_as_better(low, high, verdict):
    assert comparison("unparsed", low, high).verdict("A", "B") == verdict


def test_compare_task_is_seeded_honours_resamples_and_skips_unknown_systems():
    truths = [{"span": {"start": 2.0, "end": 4.0}, "duration": 10.0, "think": False} for _ in range(6)]
    answers = {"A": ["<answer>2.00 to 4.00</answer>", "<answer>2.00 to 3.00</answer>", "x"] * 2}
    first = compare_task("temporal_grounding", truths, answers, pairs=[("A", "nobody")], resamples=30)
    again = compare_task("temporal_grounding", truths, answers, pairs=[("A", "nobody")], resamples=30)
    assert first == again                                       # same inputs, same intervals
    miou = next(r for r in first if r.metric == "mIoU")
    assert miou.differences == {}                                # a pair naming no system is skipped
    assert miou.values["A"].value == pytest.approx(50.0)         # IoU 1, 0.5, 0 on each half
    a = miou.values["A"]
    assert a.low < a.high                                        # 30 draws of a varied metric
    one = compare_task("temporal_grounding", truths, answers, pairs=[], resamples=1)
    a1 = next(r for r in one if r.metric == "mIoU").values["A"]
    assert a1.low == a1.high                                     # one draw: both ends are it


@pytest.mark.parametrize(
    "q, want",
    [(0.0, 10.0), (1.0, 40.0), (0.5, 25.0), (1 / 3, 20.0), (0.9, 37.0), (0.05, 11.5)],
)
def test_quantile_interpolates_between_order_statistics(q, want):
    # positions q * 3 over [10, 20, 30, 40]: 0.9 -> 2.7 -> 30 + 0.7 * 10; 0.05 -> 0.15 -> 10 + 0.15 * 10
    assert _quantile([10.0, 20.0, 30.0, 40.0], q) == pytest.approx(want)
    assert _quantile([7.0], q) == 7.0


@pytest.mark.parametrize(
    "low, high, excludes",
    [(0.2, 0.8, True), (-0.8, -0.2, True), (0.0, 1.0, False), (-1.0, 0.0, False), (-0.5, 0.5, False), (1.5, 2.0, True)],
)
def test_interval_excludes_zero_only_strictly(low, high, excludes):
    assert Interval((low + high) / 2, low, high).excludes_zero() is excludes
