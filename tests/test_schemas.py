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


GQA_PROMPT = (
    "<video>\nThe video is 90.00 seconds long.\nQuestion: why did the boy pick up one present\nOptions:\n"
    "(A) share with the girl\n(B) approach lady sitting there\n(C) unwrap it\n(D) playing with toy train\n(E) gesture\n"
    "Pick the correct option and name the moments of the video that show it.\n"
    "{lead}inside <answer> </answer>: only the letter of the correct option; then inside <glue> </glue>: the moments "
    "that support the answer, in seconds, as a list of (start, end) pairs.\n"
    "Your reply must have this shape: {shape}<answer>C</answer><glue>[(3.20, 8.75), (12.00, 15.40)]</glue>"
)
THINK_LEAD = "First think it through inside <think> </think> ({hint}). Then write, "


def test_the_prompts_word_for_word():
    """What the model is trained on: the task's intro with the row's values, then the contract in words."""
    marks = "you may mark the moments you look at with <timestep> </timestep>"
    assert render_prompt(get_task("grounded_qa"), GQA_ROW, True)[0]["content"] == GQA_PROMPT.format(
        lead=THINK_LEAD.format(hint=marks), shape="<think>...</think>")
    assert render_prompt(get_task("grounded_qa"), GQA_ROW, False)[0]["content"] == GQA_PROMPT.format(
        lead="Do not explain. Write, ", shape="")
    moving = {**TRACK_ROW, "boxes": [{**b, "x0": 0.1 + i / 100} for i, b in enumerate(TRACK_ROW["boxes"])]}
    assert render_prompt(get_task("tracking"), moving)[0]["content"] == (
        "<video>\nYou see 8 frames of a video. In the first frame the sloth is inside the box [0.100, 0.100, 0.500, 0.600]"
        " (x0, y0, x1, y1 as fractions of the frame width and height). Follow the sloth through all 8 frames.\n"
        + THINK_LEAD.format(hint="you may note where the object moves") + "inside <answer> </answer>: 8 boxes, one per "
        "frame in order, as [[x0, y0, x1, y1], ...] with coordinates as fractions (0 to 1) of the frame width and height.\n"
        "Your reply must have this shape: <think>...</think><answer>[[0.12, 0.30, 0.45, 0.80], [0.14, 0.31, 0.47, 0.81], ...]"
        "</answer>")
    row = {"task": "temporal_grounding", "query": " a  man\nsits ", "duration": 30}
    assert render_prompt(get_task("temporal_grounding"), row, False)[0]["content"] == (
        '<video>\nThe video is 30.00 seconds long. Find the part of the video where this happens: "a man sits".\n'
        "Do not explain. Write, inside <answer> </answer>: the start and end time in seconds, with two decimals, "
        "written as 'S to E'.\nYour reply must have this shape: <answer>12.50 to 17.80</answer>")
    nameless = render_prompt(get_task("temporal_grounding"), {**row, "query": None}, False)[0]["content"]
    assert 'Find the part of the video where this happens: "".' in nameless


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
    assert (back["sample_id"], back["task"], back["dataset"], back["split"], back["video_key"], back["think"]) == (
        "nextgqa-1", "grounded_qa", "nextgqa", "val", "4882821564", True)
    assert back["prompt"] == render_prompt(get_task("grounded_qa"), GQA_ROW, think=True)
    # the truth as JSON with sorted keys: the same row always gives the same bytes
    assert back["reward_model"]["ground_truth"] == (
        '{"answer_index": 2, "choices": ["share with the girl", "approach lady sitting there", "unwrap it", '
        '"playing with toy train", "gesture"], "duration": 90.0, "spans": [{"end": 29.8, "start": 13.8}], '
        '"task": "grounded_qa", "think": true}')
    assert back["prompt"][0]["content"].startswith("<video>")
    got = schemas.stored_video(back)
    assert (got.frames, got.timestamps, got.fps, got.width, got.height) == (frames, entry["timestamps"], 2.0, 84, 56)


def test_ground_truth_and_training_row_of_a_row_without_duration():
    qa = {"sample_id": "q", "task": "video_qa", "dataset": "nextqa", "video_key": "v", "query": "q?",
          "choices": ["x", "y"], "answer_index": 1, "duration": None}
    assert schemas.ground_truth(qa, think=False) == {"task": "video_qa", "think": False, "choices": ["x", "y"],
                                                     "answer_index": 1}
    row = training_row(qa, None, think=False)
    assert row["think"] is False and row["extra_info"] == {"index": 0, "sample_id": "q", "task": "video_qa", "think": False}
    assert json.loads(row["reward_model"]["ground_truth"]) == schemas.ground_truth(qa, think=False)
    assert row["reward_model"]["style"] == "rule" and row["split"] is None
    assert row["videos"] == []
    assert row["prompt"][0]["content"].endswith("Your reply must have this shape: <answer>C</answer>")


def test_tables_carry_their_name_and_version():
    for name, schema in (("samples", schemas.samples_schema()), ("videos", schemas.videos_schema()),
                         ("rejects", schemas.rejects_schema()), ("training", schemas.training_schema())):
        vrft = {k: v for k, v in schema.metadata.items() if k.startswith(b"vrft.")}
        assert vrft == {b"vrft.schema_version": b"3", b"vrft.table": name.encode()}
    assert schemas.schema_version(None) is None and schemas.schema_version({b"other": b"x"}) is None
    labels = [f.name for f in schemas.samples_schema()][7:-4]   # before the provenance, repairs and published
    assert labels == ["span", "spans", "choices", "answer_index", "boxes"]  # each column once, in registration order


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


def test_the_truth_carries_the_labels_as_published_where_a_repair_changed_them():
    """A span a repair clipped to the video: the truth scores the repaired span and keeps the published
    one beside it (what benchmarks score); a row no repair changed has no `published`."""
    row = {"sample_id": "s", "task": "temporal_grounding", "dataset": "charades", "video_key": "v", "query": "q",
           "span": {"start": 1.0, "end": 10.0}, "duration": 10.0,
           "published": json.dumps({"span": {"start": 1.0, "end": 10.4}})}
    assert schemas.ground_truth(row) == {"task": "temporal_grounding", "think": True, "span": {"start": 1.0, "end": 10.0},
                                         "duration": 10.0, "published": {"span": {"start": 1.0, "end": 10.4}}}
    assert "published" not in schemas.ground_truth({**row, "published": None})


def test_frames_sampled_slower_than_one_a_second_are_kept_and_zero_fps_refused():
    frames, _ = _stored()
    assert schemas.frame_columns(frames, [0.0, 2.0, 4.0, 6.0], 0.5, 84, 56)["sampled_fps"] == 0.5
    with pytest.raises(schemas.FrameError, match=r"^sampled fps 0.0 is not a finite number > 0$"):
        schemas.frame_columns(frames, [0.0, 2.0, 4.0, 6.0], 0.0, 84, 56)


def test_many_bad_frames_are_named_by_their_first_eight():
    from schemas.training import check_frames

    frames = [bytes([0xFF, 0xD8, k]) for k in range(9)]
    with pytest.raises(schemas.FrameError, match=r"^frame times not finite at frames \[0, 1, 2, 3, 4, 5, 6, 7\]$"):
        check_frames(frames, [math.nan] * 9, 1.0)
    with pytest.raises(schemas.FrameError, match=r"^frames \[0, 1, 2, 3, 4, 5, 6, 7\] of 9 do not match their checksums$"):
        check_frames(frames, [float(k) for k in range(9)], 1.0, [0] * 9)
