"""Normalization: whitespace, the repair policy, stable ids, violation codes as reasons."""

from __future__ import annotations

import pytest

import hashlib

from pipelines import normalize as normalize_module
from pipelines.normalize import RepairPolicy, content_id, id_of, normalize, record_id
from pipelines.sources.base import RawRecord, Rejected

POLICY = RepairPolicy()


@pytest.fixture(autouse=True)
def fresh_column_converters():
    """The column converters are built once per process (cached); each test builds them anew, so it runs
    the code as it is now (a mutation run changes it between tests of one process)."""
    normalize_module._columns.cache_clear()
    normalize_module._content_columns.cache_clear()


def rec(key: str = "line 1", line: str = "V 1 5##a person sits.") -> RawRecord:
    return RawRecord("toy", "toy.txt", key, {"line": line}, "train")


def grounding(start: float, end: float, duration: float = 30.0, **extra) -> dict:
    return {"task": "temporal_grounding", "video_key": "V", "query": "a person sits.", "duration": duration,
            "span": {"start": start, "end": end}, **extra}


def reason(draft: dict, policy: RepairPolicy = POLICY) -> str:
    with pytest.raises(Rejected) as err:
        normalize(draft, rec(), policy)
    return err.value.reason


def test_texts_are_tidied_and_a_clean_span_is_kept_as_is():
    row = normalize(grounding(1.0, 5.0, query="  a  person\t sits. \n"), rec(), POLICY)
    assert row["query"] == "a person sits."
    assert row["span"] == {"start": 1.0, "end": 5.0} and row["repairs"] == []
    assert (row["dataset"], row["split"], row["source_file"], row["source_key"]) == ("toy", "train", "toy.txt", "line 1")


def test_end_past_the_video_within_tolerance_is_clipped_and_recorded():
    row = normalize(grounding(20.0, 31.9), rec(), POLICY)
    assert row["span"] == {"start": 20.0, "end": 30.0}
    assert row["repairs"] == ["span_end_clipped"]


def test_end_past_the_video_beyond_tolerance_is_rejected():
    assert reason(grounding(20.0, 32.1)) == "span_past_end"


def test_negative_start_within_tolerance_is_clipped_beyond_is_rejected():
    row = normalize(grounding(-1.5, 4.0), rec(), POLICY)
    assert row["span"]["start"] == 0.0 and row["repairs"] == ["span_start_clipped"]
    assert reason(grounding(-2.5, 4.0)) == "span_negative_start"


def test_both_ends_clipped_records_both_repairs():
    row = normalize(grounding(-0.5, 30.5), rec(), POLICY)
    assert row["span"] == {"start": 0.0, "end": 30.0}
    assert sorted(row["repairs"]) == ["span_end_clipped", "span_start_clipped"]


def test_a_span_starting_after_the_video_is_rejected_not_clipped_into_an_inversion():
    # end 31.0 is within tolerance, but there is nothing of the span inside the video
    assert reason(grounding(30.5, 31.0)) == "span_starts_after_video"


def test_inverted_and_zero_length_spans_are_rejected():
    assert reason(grounding(8.0, 7.0)) == "span_inverted"
    assert reason(grounding(7.0, 7.0)) == "span_zero_length"
    # several violations: all codes, in the order the checks report them
    assert reason(grounding(38.0, 13.0, duration=12.27)) == "span_inverted+span_starts_after_video"


def test_tolerance_is_configurable():
    tight = RepairPolicy(clip_tolerance_s=0.5)
    assert reason(grounding(20.0, 31.0), tight) == "span_past_end"
    assert normalize(grounding(20.0, 30.4), rec(), tight)["repairs"] == ["span_end_clipped"]


def test_every_evidence_span_is_repaired_by_the_same_rule():
    draft = {"task": "grounded_qa", "video_key": "V", "query": "why?", "duration": 34.0,
             "choices": ["a", " b  c", "d"], "answer_index": 1,
             "spans": [{"start": -0.4, "end": 3.0}, {"start": 30.0, "end": 35.0}]}
    row = normalize(draft, rec(), POLICY)
    assert row["spans"] == [{"start": 0.0, "end": 3.0}, {"start": 30.0, "end": 34.0}]
    assert sorted(row["repairs"]) == ["span_end_clipped", "span_start_clipped"]
    assert row["choices"] == ["a", "b c", "d"]


def test_probed_duration_is_the_one_checked_against():
    row = normalize(grounding(3.4, 10.5, duration=None), rec(), POLICY, probed_duration=30.744)
    assert row["duration"] == 30.744 and row["repairs"] == []
    assert reason(grounding(3.4, 10.5, duration=None)) == "duration_missing"


def test_sample_ids_come_from_content_and_tell_records_apart():
    a = normalize(grounding(1.0, 5.0), rec("line 7"), POLICY)["sample_id"]
    assert a == content_id("toy", grounding(1.0, 5.0))
    assert a == normalize(grounding(1.0, 5.0), rec("line 8"), POLICY)["sample_id"]         # position: no part of it
    assert a == normalize(grounding(1, 5, duration=31.0, query=" a  person sits."), rec(), POLICY)["sample_id"]
    assert a != normalize(grounding(1.0, 5.5), rec("line 7"), POLICY)["sample_id"]          # labels: part of it
    assert a != normalize(grounding(1.0, 5.0, query="a person stands."), rec(), POLICY)["sample_id"]
    assert a != content_id("other", grounding(1.0, 5.0))
    given = normalize(grounding(1.0, 5.0, sample_id=" mine-1 "), rec(), POLICY)["sample_id"]
    assert given == "mine-1"


def test_wrong_types_are_rejected_with_a_reason():
    assert reason(grounding(1.0, 5.0, split=5)) == "column_type_invalid"
    assert reason({**grounding(1.0, 5.0), "span": {"start": "1", "end": 5}}) == "span_not_numeric"
    assert reason({**grounding(1.0, 5.0), "task": "counting"}) == "task_unknown"


@pytest.mark.parametrize("tolerance", [2.0, 0.5])
def test_the_tolerance_is_inclusive_at_both_ends(tolerance):
    """A span off by exactly the tolerance is clipped; a hair more is rejected (exact binary values)."""
    policy = RepairPolicy(clip_tolerance_s=tolerance)
    row = normalize(grounding(20.0, 30.0 + tolerance), rec(), policy)
    assert row["span"] == {"start": 20.0, "end": 30.0} and row["repairs"] == ["span_end_clipped"]
    row = normalize(grounding(-tolerance, 4.0), rec(), policy)
    assert row["span"] == {"start": 0.0, "end": 4.0} and row["repairs"] == ["span_start_clipped"]
    assert reason(grounding(20.0, 30.0 + tolerance + 1 / 64), policy) == "span_past_end"
    assert reason(grounding(-tolerance - 1 / 64, 4.0), policy) == "span_negative_start"


def test_spans_that_touch_the_video_only_at_an_edge_are_not_clipped():
    # ends at 0 exactly: nothing of it after 0, so the start is not moved (the checks reject it)
    assert reason(grounding(-1.0, 0.0)) == "span_negative_start"
    # starts at the video's end exactly: rejected as starting after the video, not clipped to [30, 30]
    assert reason(grounding(30.0, 31.0)) == "span_starts_after_video"
    # a span that already ends on the last instant is kept as it is, with no repair recorded
    row = normalize(grounding(20.0, 30.0), rec(), POLICY)
    assert row["span"] == {"start": 20.0, "end": 30.0} and row["repairs"] == []


def test_a_span_is_not_clipped_against_a_missing_or_zero_duration():
    assert reason(grounding(20.0, 31.0, duration=0)) == "duration_invalid"
    assert reason(grounding(20.0, 31.0, duration="n/a")) == "duration_invalid"


def test_a_repair_the_adapter_made_is_kept_beside_the_policy_s_once_each():
    draft = grounding(20.0, 31.0, repairs=["box_times_assumed", "box_times_assumed"])
    assert normalize(draft, rec(), POLICY)["repairs"] == ["box_times_assumed", "span_end_clipped"]


def tracking(boxes):
    return {"task": "tracking", "video_key": "V", "query": "cup", "duration": 4.0,
            "boxes": [{"t": float(t), **b} for t, b in enumerate(boxes)]}


def test_truth_boxes_of_zero_area_are_rejected_not_written():
    good = {"x0": 0.1, "y0": 0.2, "x1": 0.4, "y1": 0.6}
    assert normalize(tracking([good, good]), rec(), POLICY)["boxes"][1] == {"t": 1.0, **good}
    flat = {**good, "y1": 0.2}            # zero height: a line, not an object
    thin = {**good, "x1": 0.1}            # zero width
    assert reason(tracking([good, flat])) == "box_inverted"
    assert reason(tracking([thin, good])) == "box_inverted"


def sha20(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def test_ids_are_the_hash_of_dataset_and_content_and_never_change():
    """An id is the first 20 hex digits of sha256(dataset, 0x1f, the content as sorted JSON, non-ASCII
    kept): written out here by hand, so an id of today is the id of the next vrft version too."""
    raw = RawRecord("toy", "toy.txt", "line 3", {"z": 1, "line": "V 1 5##café"}, "train")
    assert record_id(raw) == id_of(raw) == sha20('toy\x1f{"line": "V 1 5##café", "z": 1}')
    assert record_id(RawRecord("toy", "other.txt", "line 9", {"line": "V 1 5##café", "z": 1}, "test")) == record_id(raw)
    draft = {"task": "video_qa", "video_key": "V", "query": " why  é? ", "choices": ["a", "b"], "answer_index": 1}
    want = sha20('toy\x1f{"answer_index": 1.0, "boxes": null, "choices": ["a", "b"], "query": "why é?", '
                 '"span": null, "spans": null, "task": "video_qa", "video_key": "V"}')
    assert content_id("toy", draft) == want and len(want) == 20


def test_ids_tell_apart_records_that_differ_in_one_label_value():
    base = content_id("toy", grounding(1.0, 5.0))
    assert content_id("toy", grounding(2.0, 5.0)) != base                      # the start alone
    qa = {"task": "video_qa", "video_key": "V", "query": "q", "choices": ["a", "b"], "answer_index": 0}
    assert content_id("toy", {**qa, "choices": ["a", "c"]}) != content_id("toy", qa)   # one option alone


def test_the_row_takes_the_given_id_the_draft_s_dataset_and_trimmed_identity():
    row = normalize(grounding(1.0, 5.0, video_key=" V ", dataset="charades"), rec(), POLICY, given_id="id-7")
    assert (row["sample_id"], row["dataset"], row["video_key"]) == ("id-7", "charades", "V")


def test_a_span_from_zero_is_not_a_repair_and_a_short_video_is_clipped_too():
    assert normalize(grounding(0.0, 5.0), rec(), POLICY)["repairs"] == []
    row = normalize(grounding(-0.5, 0.8), rec(), POLICY)                      # ends before 1 s
    assert row["span"] == {"start": 0.0, "end": 0.8} and row["repairs"] == ["span_start_clipped"]
    row = normalize(grounding(0.2, 1.0, duration=0.8), rec(), POLICY)        # a video under a second
    assert row["span"] == {"start": 0.2, "end": 0.8} and row["repairs"] == ["span_end_clipped"]


def test_the_adapter_s_repairs_stay_beside_clipped_evidence_spans():
    draft = {"task": "grounded_qa", "video_key": "V", "query": "why?", "duration": 34.0, "choices": ["a", "b"],
             "answer_index": 1, "spans": [{"start": 30.0, "end": 35.0}], "repairs": ["box_times_assumed"]}
    assert normalize(draft, rec(), POLICY)["repairs"] == ["box_times_assumed", "span_end_clipped"]


def test_a_reject_says_every_violation():
    with pytest.raises(Rejected) as err:
        normalize(grounding(38.0, 13.0, duration=12.27), rec(), POLICY)
    assert err.value.detail == ("span_inverted (span): start 38.0 > end 13.0; "
                                "span_starts_after_video (span): start 38.0 >= duration 12.27")


def test_the_policy_is_recorded_as_set():
    assert RepairPolicy().to_dict() == {"clip_tolerance_s": 2.0}
    assert RepairPolicy(clip_tolerance_s=0.5).to_dict() == {"clip_tolerance_s": 0.5}


@pytest.mark.parametrize("extra, detail", [
    ({"split": 5}, "split: 5 is not string"),
    ({"choices": 5}, "choices: 5 is not list<item: string>"),
    ({"choices": ["a", 3]}, "choices: 3 is not string"),
    ({"answer_index": True}, "answer_index: True is not int32"),
    ({"answer_index": 1.0}, "answer_index: 1.0 is not int32"),
    ({"boxes": [5]}, "boxes: 5 is not struct<t: double, x0: double, y0: double, x1: double, y1: double>"),
    ({"boxes": [{"t": "a", "x0": 0, "y0": 0, "x1": 1, "y1": 1}]}, "boxes: 'a' is not double"),
    ({"spans": [[1, 2]]}, "spans: [1, 2] is not struct<start: double, end: double>"),
])
def test_a_value_of_the_wrong_type_in_a_column_the_task_does_not_check_is_rejected_naming_column_and_value(
        extra, detail):
    """A grounding row carrying a stray label column of the wrong type: the task's checks pass, the
    column's Arrow type refuses it, and the reject says which column and which value (booleans are no int)."""
    with pytest.raises(Rejected) as err:
        normalize(grounding(1.0, 5.0, **extra), rec(), POLICY)
    assert (err.value.reason, err.value.detail) == ("column_type_invalid", detail)


def test_a_qa_row_keeps_its_answer_and_writes_a_missing_duration_as_null():
    draft = {"task": "video_qa", "video_key": "V", "query": "why?", "choices": ["a", "b", "c"], "answer_index": 2}
    row = normalize(draft, rec(), POLICY)
    assert (row["answer_index"], row["duration"], row["span"], row["choices"]) == (2, None, None, ["a", "b", "c"])


def test_a_record_with_values_json_does_not_know_gets_an_id_from_their_text():
    """Dates (from a Parquet or JSON-lines source) are hashed as their text: the record gets an id (no
    crash), and two records differing only there get different ids."""
    import datetime

    raw = RawRecord("toy", "toy.parquet", "row 0", {"line": "x", "when": datetime.date(2024, 1, 2)}, "train")
    assert record_id(raw) == sha20('toy\x1f{"line": "x", "when": "2024-01-02"}')
    qa = {"task": "video_qa", "video_key": "V", "query": "q", "choices": ["a", "b"]}
    first, second = (content_id("toy", {**qa, "answer_index": datetime.date(2024, 1, d)}) for d in (1, 2))
    assert first == sha20('toy\x1f{"answer_index": "2024-01-01", "boxes": null, "choices": ["a", "b"], '
                          '"query": "q", "span": null, "spans": null, "task": "video_qa", "video_key": "V"}')
    assert first != second


def test_a_column_type_without_its_own_rule_passes_values_through_to_arrow():
    """A new task may declare a label of another Arrow type (a boolean flag): normalize keeps its values
    as they are and leaves the judging to the writer's Arrow cast."""
    import pyarrow as pa

    flag = normalize_module.converter(pa.bool_(), "flag")
    assert [flag(v) for v in (True, False, None)] == [True, False, None]


def test_every_clipped_interval_is_recorded_in_column_order():
    """A row holding a span and evidence spans both past the video: each clipped end is one repair code,
    the span's first (a grounding row with stray evidence spans, normalized by the same rule)."""
    row = normalize(grounding(-0.5, 5.0, spans=[{"start": 29.0, "end": 31.0}]), rec(), POLICY)
    assert (row["span"], row["spans"]) == ({"start": 0.0, "end": 5.0}, [{"start": 29.0, "end": 30.0}])
    assert row["repairs"] == ["span_start_clipped", "span_end_clipped"]


def test_a_new_label_type_s_second_span_column_is_clipped_and_recorded_too():
    import pyarrow as pa

    import schemas
    from schemas.repairs import repair_labels

    label = schemas.register_label_type(schemas.LabelType(
        name="cue", columns={"cue": pa.struct([("start", pa.float64()), ("end", pa.float64())])},
        check=lambda row: [], answer_format="a time span", answer_example="<cue>1 to 2</cue>",
        exempt={"validation checks": "test only", "report plots": "test only"}))
    try:
        row = {"duration": 30.0, "span": {"start": -0.5, "end": 5.0}, "cue": {"start": 29.0, "end": 31.0}}
        out, repairs = repair_labels(row, POLICY)
    finally:
        schemas.unregister_label_type(label.name)
    assert (out["span"], out["cue"]) == ({"start": 0.0, "end": 5.0}, {"start": 29.0, "end": 30.0})
    assert repairs == ["span_start_clipped", "span_end_clipped"]
