"""Each record check of the task declarations fails on a row made to break it, with its code, column
and message, and only there: the boundaries of each rule (0, the duration, 1, the option count)."""

from __future__ import annotations

import math

import pytest

import schemas
from schemas import check_record, get_task
from schemas.labels.boxtrack import format_box
from schemas.labels.choice import normalize_option, option_letter
from schemas.violation import is_number

BASE = {"sample_id": "s-1", "dataset": "d", "video_key": "v", "query": "a man sits"}
GROUNDING = {**BASE, "task": "temporal_grounding", "duration": 30.0, "span": {"start": 1.0, "end": 5.0}}
GQA = {**BASE, "task": "grounded_qa", "duration": 30.0, "choices": ["a", "b", "c"], "answer_index": 1,
       "spans": [{"start": 1.0, "end": 5.0}]}
QA = {**BASE, "task": "video_qa", "choices": ["a", "b"], "answer_index": 0}
TRACK = {**BASE, "task": "tracking", "duration": 2.0,
         "boxes": [{"t": 0.5 * i, "x0": 0.1, "y0": 0.2, "x1": 0.4, "y1": 0.6} for i in range(3)]}


def found(row) -> list[str]:
    return [str(v) for v in check_record(row)]


def test_the_valid_rows_are_valid():
    for row in (GROUNDING, GQA, QA, TRACK):
        assert check_record(row) == []


@pytest.mark.parametrize("column", ["sample_id", "dataset", "video_key", "query"])
@pytest.mark.parametrize("value", [None, "", "  ", 3])
def test_every_sample_names_itself(column, value):
    assert found({**QA, column: value}) == [f"{column}_missing ({column}): {column} must be a non-empty string, got {value!r}"]


def test_an_unknown_task():
    assert found({**QA, "task": "counting"}) == ["task_unknown (task): no task is declared as 'counting'"]


@pytest.mark.parametrize("duration", [0, -1.0, math.nan, math.inf, True, "30"])
def test_a_duration_must_be_a_positive_number(duration):
    assert found({**QA, "duration": duration}) == [f"duration_invalid (duration): duration must be > 0 seconds, got {duration!r}"]


def test_spans_need_the_duration_and_choices_do_not():
    assert found({**GROUNDING, "duration": None}) == ["duration_missing (duration): task temporal_grounding needs the video's duration"]
    assert check_record({**QA, "duration": None}) == [] and check_record({**QA, "duration": 0.5}) == []
    assert get_task("grounded_qa").needs_duration and not get_task("video_qa").needs_duration


@pytest.mark.parametrize(
    "span, want",
    [
        ({"start": 0.0, "end": 30.0}, []),                     # the whole video
        ({"start": 29.9, "end": 30.0}, []),
        (None, ["span_missing (span): the task needs a span"]),
        ([1, 5], ["span_missing (span): expected {start, end}, got list"]),
        ({"start": "1", "end": 5}, ["span_not_numeric (span): start='1' end=5"]),
        ({"start": 1, "end": None}, ["span_not_numeric (span): start=1 end=None"]),
        ({"start": -0.5, "end": 5}, ["span_negative_start (span): start -0.5 < 0"]),
        ({"start": 6, "end": 5}, ["span_inverted (span): start 6 > end 5"]),
        ({"start": 5, "end": 5}, ["span_zero_length (span): start == end == 5"]),
        ({"start": 30, "end": 31}, ["span_starts_after_video (span): start 30 >= duration 30.0"]),
        ({"start": 29, "end": 30.5}, ["span_past_end (span): end 30.5 > duration 30.0"]),
        ({"start": 31, "end": 30.5}, ["span_inverted (span): start 31 > end 30.5",
                                      "span_starts_after_video (span): start 31 >= duration 30.0"]),
    ],
)
def test_span_checks(span, want):
    assert found({**GROUNDING, "span": span}) == want


def test_a_span_is_checked_against_any_positive_duration():
    short = {**GROUNDING, "duration": 0.8, "span": {"start": 0.5, "end": 0.9}}
    assert found(short) == ["span_past_end (span): end 0.9 > duration 0.8"]
    assert found({**GROUNDING, "duration": 0, "span": {"start": 0.5, "end": 0.9}}) == [
        "duration_invalid (duration): duration must be > 0 seconds, got 0"]


def test_a_span_of_a_video_without_duration_is_checked_on_its_own():
    assert found({**GROUNDING, "duration": None, "span": {"start": 40, "end": 50}}) == [
        "duration_missing (duration): task temporal_grounding needs the video's duration"]


@pytest.mark.parametrize(
    "spans, want",
    [
        (None, ["spans_missing (spans): the task needs evidence spans"]),
        ("1-5", ["spans_missing (spans): expected a list, got str"]),
        ([], ["spans_empty (spans): at least one evidence span is needed"]),
        ([{"start": 1, "end": 2}, {"start": 3, "end": 3}, {"start": 4, "end": 31}],
         ["span_zero_length (spans[1]): start == end == 3", "span_past_end (spans[2]): end 31 > duration 30.0"]),
        (({"start": 1, "end": 2},), []),
    ],
)
def test_spanset_checks(spans, want):
    assert found({**GQA, "spans": spans}) == want


@pytest.mark.parametrize(
    "choices, index, want",
    [
        (None, 0, ["choices_missing (choices): the task needs answer options"]),
        ("ab", 0, ["choices_missing (choices): the task needs answer options"]),
        (["a"], 0, ["choices_too_few (choices): need at least 2 options, got 1"]),
        ([str(i) for i in range(26)], 25, []),                  # A to Z
        ([str(i) for i in range(27)], 0, ["choices_too_many (choices): at most 26 options, got 27"]),
        (["a", " ", None], 0, ["choice_empty (choices[1]): option 1 is empty", "choice_empty (choices[2]): option 2 is empty"]),
        (["a", "b"], None, ["answer_index_missing (answer_index): got None"]),
        (["a", "b"], True, ["answer_index_missing (answer_index): got True"]),
        (["a", "b"], 1.0, ["answer_index_missing (answer_index): got 1.0"]),
        (["a", "b"], 2, ["answer_index_out_of_range (answer_index): 2 not in [0, 2)"]),
        (["a", "b"], -1, ["answer_index_out_of_range (answer_index): -1 not in [0, 2)"]),
        (["Up", "up ", "down"], 2, []),                         # twins that are not the answer do not matter
        (["Up", " up", "down"], 0, ["answer_ambiguous (choices): the answer's text appears as options [0, 1]"]),
        (["a", 7, "b"], 1, ["choice_empty (choices[1]): option 1 is empty"]),  # not text: no twin check on it
    ],
)
def test_choice_checks(choices, index, want):
    assert found({**QA, "choices": choices, "answer_index": index}) == want


def box(**kw):
    return {"t": 0.0, "x0": 0.1, "y0": 0.2, "x1": 0.4, "y1": 0.6, **kw}


@pytest.mark.parametrize(
    "first, want",
    [
        (box(x0=0.0, y0=0.0, x1=1.0, y1=1.0), []),             # the whole frame
        ("0.1 0.2 0.4 0.6", ["box_missing (boxes[0]): expected {t, x0, y0, x1, y1}, got str",
                             "box_time_invalid (boxes[0]): t=None"]),
        (box(y1="0.6"), ["box_not_numeric (boxes[0]): coordinates [0.1, 0.2, 0.4, '0.6']"]),
        (box(x0=-0.01), ["box_outside_frame (boxes[0]): [-0.01, 0.2, 0.4, 0.6] not inside [0, 1]"]),
        (box(y1=1.01), ["box_outside_frame (boxes[0]): [0.1, 0.2, 0.4, 1.01] not inside [0, 1]"]),
        (box(x1=0.1), ["box_inverted (boxes[0]): need x0 < x1 and y0 < y1, got [0.1, 0.2, 0.1, 0.6]"]),
        (box(y0=0.7), ["box_inverted (boxes[0]): need x0 < x1 and y0 < y1, got [0.1, 0.7, 0.4, 0.6]"]),
        (box(y0=0.6), ["box_inverted (boxes[0]): need x0 < x1 and y0 < y1, got [0.1, 0.6, 0.4, 0.6]"]),
        (box(t=-0.1), ["box_time_invalid (boxes[0]): t=-0.1"]),
        (box(t="0"), ["box_time_invalid (boxes[0]): t='0'"]),
        (box(t=0.5), ["box_time_not_ascending (boxes[1]): t=0.5 after t=0.5"]),
    ],
)
def test_box_checks(first, want):
    assert found({**TRACK, "boxes": [first, *TRACK["boxes"][1:]]}) == want


def test_track_checks():
    assert found({**TRACK, "boxes": None}) == ["boxes_missing (boxes): the task needs a box track"]
    assert found({**TRACK, "boxes": "[]"}) == ["boxes_missing (boxes): the task needs a box track"]
    assert found({**TRACK, "boxes": TRACK["boxes"][:1]}) == ["boxes_too_few (boxes): a track needs at least 2 boxes, got 1"]
    assert check_record({**TRACK, "boxes": tuple(TRACK["boxes"][:2])}) == []
    late = [*TRACK["boxes"][:2], box(t=2.5)]
    assert found({**TRACK, "boxes": late}) == ["box_time_past_end (boxes[2]): t=2.5 > duration 2.0"]
    assert check_record({**TRACK, "boxes": [*TRACK["boxes"][:2], box(t=2.0)]}) == []  # on the last instant
    assert check_record({**TRACK, "duration": None, "boxes": late}) == []  # no duration: nothing to check against
    assert found({**TRACK, "duration": 0.8}) == ["box_time_past_end (boxes[2]): t=1.0 > duration 0.8"]
    assert found({**TRACK, "duration": 0}) == ["duration_invalid (duration): duration must be > 0 seconds, got 0"]
    # a bad time does not hide what is wrong with the boxes after it
    broken = [box(t=None), box(t=0.5, x0=-1), box(t=0.25)]
    assert found({**TRACK, "boxes": broken}) == [
        "box_time_invalid (boxes[0]): t=None",
        "box_outside_frame (boxes[1]): [-1, 0.2, 0.4, 0.6] not inside [0, 1]",
        "box_time_not_ascending (boxes[2]): t=0.25 after t=0.5",
    ]


def test_is_number():
    assert [is_number(v) for v in (0, 1.5, -2, True, math.nan, math.inf, -math.inf, "1", None)] == [
        True, True, True, False, False, False, False, False, False]


def test_label_text():
    assert format_box({"x0": 0.1, "y0": 0.25, "x1": 0.5, "y1": 1}) == "[0.100, 0.250, 0.500, 1.000]"
    assert option_letter(0) == "A" and option_letter(2) == "C" and option_letter(25) == "Z"
    assert normalize_option("  Unwrap\tIT ") == "unwrap it"


def test_frame_times_come_from_the_box_track():
    track, grounding = get_task("tracking"), get_task("temporal_grounding")
    assert track.frame_times({"boxes": [{"t": 0}, {"t": "0.5"}, {"t": 1.25}]}) == (0.0, 0.5, 1.25)
    assert track.frame_times({"boxes": [{"t": 0}, {"x0": 1}]}) is None and track.frame_times({"boxes": None}) is None
    assert track.frame_times({"boxes": ["x"]}) is None
    assert grounding.frame_times({"span": {"start": 0, "end": 1}}) is None


def test_a_task_declares_its_components_and_columns():
    gqa = get_task("grounded_qa")
    assert gqa.components == ("format", "accuracy", "iou")
    assert gqa.label_columns == ("choices", "answer_index", "spans")
    assert [lt.name for lt in gqa.labels] == ["choice", "spanset"]
    assert [p.label_type.name for p in gqa.parts] == ["choice", "spanset"]


def _task(**kw):
    parts = (schemas.AnswerPart(tag="answer", label="span", component="iou"),)
    return schemas.Task(**{"name": "t", "doc": "", "intro": "", "parts": parts, "weights": {"format": 1, "iou": 1}, **kw})


@pytest.mark.parametrize(
    "change, message",
    [
        ({"parts": ()}, "the answer contract needs at least one part"),
        ({"parts": (schemas.AnswerPart("answer", "span", "iou"), schemas.AnswerPart("answer", "span", "iou2"))},
         r"tags must be unique and not 'think': \['answer', 'answer'\]"),
        ({"parts": (schemas.AnswerPart("think", "span", "iou"),)}, "tags must be unique and not 'think'"),
        ({"parts": (schemas.AnswerPart("a", "span", "iou"), schemas.AnswerPart("b", "span", "iou"))},
         r"components must be unique and not 'format': \['iou', 'iou'\]"),
        ({"parts": (schemas.AnswerPart("a", "span", "format"),), "weights": {"format": 1}}, "components must be unique"),
        ({"parts": (schemas.AnswerPart("a", "spam", "iou"),)}, "unknown label type 'spam'"),
        ({"weights": {"format": 1, "iou": 1, "accuracy": 1}},
         r"weights \['accuracy', 'format', 'iou'\] must name exactly \['format', 'iou'\]"),
    ],
)
def test_a_task_declaration_is_checked_when_registered(change, message):
    with pytest.raises((ValueError, KeyError), match=message):
        schemas.register_task(_task(**change))
    with pytest.raises(KeyError):
        get_task("t")  # nothing was registered


def test_registries():
    from schemas.registry import Registry

    reg = Registry("widget")
    assert reg.add("a", 1) == 1 and reg.add("b", 2) == 2
    assert reg.get("b") == 2 and reg.values() == (1, 2) and reg.names() == ("a", "b")
    with pytest.raises(ValueError, match="^widget 'a' is already registered$"):
        reg.add("a", 3)
    with pytest.raises(KeyError, match=r"unknown widget 'c'; known: \['a', 'b'\]"):
        reg.get("c")
    reg.remove("a")
    reg.remove("a")  # removing twice is fine (tests clean up after themselves)
    assert reg.names() == ("b",)


def test_a_label_type_cannot_redeclare_a_column_with_another_type():
    import pyarrow as pa

    clash = schemas.LabelType(name="span2", columns={"span": pa.string()}, check=lambda row: [], answer_format="",
                              answer_example="")
    with pytest.raises(ValueError, match="label type 'span2': column 'span' clashes with 'span'"):
        schemas.register_label_type(clash)
    with pytest.raises(KeyError):
        schemas.label_type("span2")
    same = schemas.LabelType(name="span3", columns={"span": schemas.samples_schema().field("span").type},
                             check=lambda row: [], answer_format="", answer_example="")
    try:
        assert schemas.register_label_type(same) is same  # the same column with the same type is shared
        assert [f.name for f in schemas.samples_schema()].count("span") == 1
    finally:
        schemas.unregister_label_type("span3")
