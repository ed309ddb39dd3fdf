"""Everything derived from the built-in task declarations: tables, checks, prompts, training rows."""

from __future__ import annotations

import binascii
import json
import math

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import schemas
from schemas import check_record, get_task, render_prompt, training_row

GQA_ROW = {
    "sample_id": "nextgqa-1", "task": "grounded_qa", "dataset": "nextgqa", "split": "val", "video_key": "4882821564",
    "query": "why did the boy  pick up one present", "duration": 90.0,
    "choices": ["share with the girl", "approach lady sitting there", "unwrap it", "playing with toy train", "gesture"],
    "answer_index": 2, "spans": [{"start": 13.8, "end": 29.8}],
}
TRACK_ROW = {
    "sample_id": "got-10", "task": "tracking", "dataset": "got10k", "split": "val", "video_key": "GOT-10k_Val_000010",
    "query": "sloth", "duration": 12.0,
    "boxes": [{"t": 0.1 * i, "x0": 0.1, "y0": 0.1, "x1": 0.5, "y1": 0.6} for i in range(8)],
}


def test_samples_schema_has_one_nullable_column_set_per_label_type():
    schema = schemas.samples_schema()
    for task in schemas.tasks():
        for col in task.label_columns:
            assert schema.field(col).nullable
    assert schemas.schema_version(schema.metadata) == schemas.SCHEMA_VERSION
    assert not schema.field("sample_id").nullable


def test_built_in_rows_are_valid_and_round_trip_through_parquet(tmp_path):
    assert check_record(GQA_ROW) == [] and check_record(TRACK_ROW) == []
    table = pa.Table.from_pylist([GQA_ROW, TRACK_ROW], schema=schemas.samples_schema())
    pq.write_table(table, tmp_path / "s.parquet")
    back = pq.read_table(tmp_path / "s.parquet")
    assert schemas.schema_version(back.schema.metadata) == schemas.SCHEMA_VERSION == "3"
    rows = back.to_pylist()
    assert rows[0]["spans"] == GQA_ROW["spans"] and rows[1]["boxes"] == TRACK_ROW["boxes"]
    assert check_record(rows[0]) == [] and check_record(rows[1]) == []


def test_checks_return_every_violation():
    bad = {
        **GQA_ROW, "video_key": "", "duration": 20.0, "answer_index": 7, "choices": ["a", "", "c"],
        "spans": [{"start": 15.0, "end": 12.0}, {"start": 19.0, "end": 25.0}, {"start": -1, "end": 3}],
    }
    codes = [(v.code, v.column) for v in check_record(bad)]
    assert codes == [
        ("video_key_missing", "video_key"),
        ("choice_empty", "choices[1]"),
        ("answer_index_out_of_range", "answer_index"),
        ("span_inverted", "spans[0]"),
        ("span_past_end", "spans[1]"),
        ("span_negative_start", "spans[2]"),
    ]


def test_track_and_choice_checks():
    boxes = [dict(b) for b in TRACK_ROW["boxes"]]
    boxes[2] = {**boxes[2], "x1": 1.2}
    boxes[3] = {**boxes[3], "y0": 0.7}
    boxes[4] = {**boxes[4], "t": 0.0}
    codes = [(v.code, v.column) for v in check_record({**TRACK_ROW, "boxes": boxes})]
    assert codes == [("box_outside_frame", "boxes[2]"), ("box_inverted", "boxes[3]"), ("box_time_not_ascending", "boxes[4]")]
    twin = {**GQA_ROW, "choices": ["a", "Unwrap  it", "unwrap it", "d", "e"]}
    assert [v.code for v in check_record(twin)] == ["answer_ambiguous"]
    assert [v.code for v in check_record({**GQA_ROW, "task": "nope"})] == ["task_unknown"]
    assert [v.code for v in check_record({**GQA_ROW, "duration": None})] == ["duration_missing"]


@pytest.mark.parametrize("think", [True, False])
def test_prompts_follow_the_contract(think):
    for row in (GQA_ROW, TRACK_ROW):
        task = get_task(row["task"])
        (msg,) = render_prompt(task, row, think)
        text = msg["content"]
        assert msg["role"] == "user" and text.startswith("<video>\n")
        for part in task.parts:
            assert f"<{part.tag}>" in text
        assert ("<think>" in text) == think
    gqa = render_prompt(get_task("grounded_qa"), GQA_ROW)[0]["content"]
    assert "(C) unwrap it" in gqa and "why did the boy pick up one present" in gqa and "90.00 seconds" in gqa
    track = render_prompt(get_task("tracking"), TRACK_ROW)[0]["content"]
    assert "[0.100, 0.100, 0.500, 0.600]" in track and "8 frames" in track


def test_example_answer_scores_full_format():
    from rewards import score_one

    for row in (GQA_ROW, TRACK_ROW):
        task = get_task(row["task"])
        for think in (True, False):
            example = schemas.example_answer(task, think).replace(", ...", "")
            truth = {**schemas.ground_truth(row, think)}
            if row is TRACK_ROW:  # the example shows two boxes: score it against a two-box track
                truth["boxes"] = truth["boxes"][:2]
            assert score_one(task.name, example, truth)["format"] == 1.0


def _stored(n=4, fps=2.0):
    frames = [bytes([0xFF, 0xD8, k, k + 1]) for k in range(n)]
    return frames, schemas.frame_columns(frames, [0.25 + k / fps for k in range(n)], fps, width=84, height=56)


def test_training_row_matches_training_schema(tmp_path):
    frames, video = _stored()
    row = training_row(GQA_ROW, schemas.video_entry(video), index=3)
    table = pa.Table.from_pylist([row], schema=schemas.training_schema())
    pq.write_table(table, tmp_path / "t.parquet")
    back = pq.read_table(tmp_path / "t.parquet").to_pylist()[0]
    truth = json.loads(back["reward_model"]["ground_truth"])
    assert truth == {"task": "grounded_qa", "think": True, "duration": 90.0, "choices": GQA_ROW["choices"],
                     "answer_index": 2, "spans": GQA_ROW["spans"]}
    (entry,) = back["videos"]
    # the keys qwen_vl_utils' fetch_video reads, and vrft's own
    assert entry["video"] == [{"bytes": f, "path": None} for f in frames]
    assert (entry["sample_fps"], entry["resized_height"], entry["resized_width"]) == (2.0, 56, 84)
    assert entry["timestamps"] == [0.25, 0.75, 1.25, 1.75]
    assert entry["frame_crc32"] == [binascii.crc32(f) for f in frames]      # computed here independently
    assert back["data_source"] == "vrft/nextgqa/grounded_qa" and back["extra_info"]["index"] == 3
    assert back["prompt"][0]["content"].startswith("<video>")
    got = schemas.stored_video(back)
    assert (got.frames, got.timestamps, got.fps, got.width, got.height) == (frames, entry["timestamps"], 2.0, 84, 56)


def test_training_schema_tells_hf_datasets_the_frames_are_images():
    from datasets import Features, Image, List, Value

    want = Features({"videos": List({
        "video": List(Image()), "sample_fps": Value("float64"), "resized_height": Value("int32"),
        "resized_width": Value("int32"), "timestamps": List(Value("float64")), "frame_crc32": List(Value("uint32"))})})
    meta = json.loads(schemas.training_schema().metadata[b"huggingface"])
    assert meta == {"info": {"features": want.to_dict()}}
    features = Features.from_arrow_schema(schemas.training_schema())
    assert features["videos"] == want["videos"] and features["prompt"] == List({"role": Value("string"),
                                                                                 "content": Value("string")})


def test_frames_are_refused_or_flagged_when_they_cannot_be_trusted():
    frames, video = _stored()
    with pytest.raises(schemas.FrameError, match=r"not finite at frames \[2\]"):
        schemas.frame_columns(frames, [0.0, 0.5, math.nan, 1.5], 2.0, 84, 56)
    with pytest.raises(schemas.FrameError, match="sampled fps inf"):
        schemas.frame_columns(frames, [0.0, 0.5, 1.0, 1.5], math.inf, 84, 56)
    flipped = [frames[0], frames[1][:2] + b"\x00\x00", frames[2], frames[3][:3]]
    assert schemas.corrupt_frames(flipped, video["frame_crc32"]) == [1, 3]
    assert schemas.corrupt_frames(frames, video["frame_crc32"][:3]) == [0, 1, 2, 3]   # not one per frame
    with pytest.raises(schemas.FrameError, match=r"frames \[1, 3\] of 4 do not match"):
        schemas.video_entry({**video, "frames": flipped})
    with pytest.raises(schemas.FrameError, match="4 frames and 3 timestamps"):
        schemas.video_entry({**video, "timestamps": video["timestamps"][:3]})
    with pytest.raises(ValueError, match="sample q-7: labels or duration not finite"):
        training_row({**GQA_ROW, "sample_id": "q-7", "spans": [{"start": math.nan, "end": 3.0}]}, None)


def test_schemas_imports_nothing_else_of_ours():
    import ast
    from pathlib import Path

    ours = {"rewards", "pipelines", "train", "vrft"}
    for path in Path(schemas.__file__).parent.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module] if isinstance(node, ast.ImportFrom) and node.module else [])
            assert not any(n.split(".")[0] in ours for n in names), (path, names)
