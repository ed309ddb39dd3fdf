"""Normalization: whitespace, the repair policy, stable ids, violation codes as reasons."""

from __future__ import annotations

import pytest

from pipelines.normalize import RepairPolicy, content_id, normalize
from pipelines.sources.base import RawRecord, Rejected

POLICY = RepairPolicy()


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
