"""What ingestion writes: every table loads with HF `datasets` (a table that got no rows is not written at
all: HF datasets refuses a table whose files hold no row; vrft's readers take it as empty); each frame
carries its CRC-32 from the write on; non-finite frame times and labels are refused at write."""

from __future__ import annotations

import binascii
import json
import math

import pyarrow.parquet as pq
import pytest

from pipelines import layout
from pipelines.ingest import IngestConfig, run_ingest
from pipelines.ingested import Ingested
from pipelines.sources.base import SourceOptions


def _record(i: int) -> dict:
    return {"task": "video_qa", "video_key": f"v{i}", "query": "what is shown?", "choices": ["a", "b"],
            "answer_index": i % 2, "video": f"v{i}.mp4"}


def _every_part_has_rows_and_loads(out) -> dict[str, int]:
    import datasets

    rows = {}
    for table in layout.TABLES:
        files = layout.parts(str(out), table)
        assert all(pq.ParquetFile(f).metadata.num_rows > 0 for f in files), table
        if files:
            rows[table] = datasets.load_dataset("parquet", data_files=files, split="train",
                                                cache_dir=str(out / ".hf")).num_rows
    return rows


def test_a_labels_only_run_writes_no_empty_videos_or_rejects(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(_record(i)) + "\n" for i in range(4)))
    out = tmp_path / "out"
    m = run_ingest(IngestConfig("jsonl", SourceOptions((str(src),)), str(out), frames=False)).manifest
    assert m["counts"] == {"input": 4, "written": 4, "repaired": 0, "rejected": 0}
    assert _every_part_has_rows_and_loads(out) == {"samples": 4}
    assert not (out / "videos").exists() and not (out / "rejects").exists()
    assert m["files"] == {"samples": ["samples/part-00000-of-00001.parquet"], "videos": [], "rejects": []}
    ds = Ingested.open(str(out))                  # vrft's readers: the missing tables are empty
    assert ds.framed_keys() == set() and len(ds.column("rejects", "reason")) == 0
    assert ds.scan("videos").collect().columns == [f.name for f in layout.TABLE_SCHEMAS["videos"]()]


def test_a_run_whose_videos_all_fail_keeps_its_batch_records_and_no_empty_part(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(_record(i)) + "\n" for i in range(3)))
    (tmp_path / "videos").mkdir()                  # none of the three files is there
    out = tmp_path / "out"
    cfg = IngestConfig("jsonl", SourceOptions((str(src),), videos=str(tmp_path / "videos")), str(out))
    m = run_ingest(cfg, ["--direct_num_workers=1"]).manifest
    assert m["counts"]["written"] == 0 and m["rejected_by_reason"] == {"video_missing": 3}
    assert m["videos"] == {"written": 0, "failed": 3, "decoded": 0, "failed_by_reason": {"video_missing": 3}}
    assert _every_part_has_rows_and_loads(out) == {"rejects": 3}
    assert layout.parts(str(out), "videos") == [] and layout.batch_records(str(out), "videos")
    assert not (out / "samples").exists()
    ds = Ingested.open(str(out))                  # a finished run (manifest) with no samples is still a folder
    assert ds.scan("samples").collect().height == 0
    from pipelines.mix import RecipeError, parse_recipe, run_mix

    with pytest.raises(RecipeError, match="selects no rows"):
        run_mix(parse_recipe({"sources": [{"path": str(out)}]}, "/"), str(tmp_path / "mix"))


def test_a_videos_row_carries_the_crc32_of_each_frame_and_refuses_non_finite_times():
    from pipelines.video.errors import VideoError
    from pipelines.video.plan import FramePlan
    from pipelines.video.policy import FramePolicy
    from pipelines.video.row import video_row

    frames = [b"\xff\xd8 one", b"\xff\xd8 two", b"\xff\xd8 three", b"\xff\xd8 four"]
    args = dict(uri="v.mp4", duration=2.0, fps=25.0, width=640, height=480, frame_count=50, codec="h264",
                policy=FramePolicy(), plan=FramePlan((0.0, 0.5, 1.0, 1.5), 56, 84), frames=frames)
    row = video_row(**args, timestamps=[0.0, 0.5, 1.0, 1.5])
    assert row["frame_crc32"] == [binascii.crc32(f) for f in frames]
    assert (row["frame_width"], row["frame_height"], row["sampled_fps"]) == (56, 84, 2.0)
    with pytest.raises(VideoError, match="not finite at frames \\[2\\]") as err:
        video_row(**args, timestamps=[0.0, 0.5, math.nan, 1.5])
    assert err.value.reason == "timestamps_invalid"


def test_non_finite_labels_are_rejected_at_write(tmp_path):
    src = tmp_path / "in.jsonl"
    good = {"task": "temporal_grounding", "video_key": "v0", "query": "a person opens a door", "duration": 10.0,
            "span": {"start": 1.0, "end": 4.0}}
    lines = [json.dumps(good), json.dumps({**good, "video_key": "v1", "span": {"start": math.nan, "end": 4.0}}),
             json.dumps({**good, "video_key": "v2", "duration": math.inf})]       # Python writes NaN / Infinity
    src.write_text("\n".join(lines) + "\n")
    m = run_ingest(IngestConfig("jsonl", SourceOptions((str(src),)), str(tmp_path / "out"), frames=False)).manifest
    assert m["counts"]["written"] == 1 and m["counts"]["rejected"] == 2
    rejects = pq.read_table(layout.parts(str(tmp_path / "out"), "rejects")[0]).to_pylist()
    assert {r["video_key"]: r["reason"] for r in rejects} == {"v1": "span_not_numeric", "v2": "duration_invalid"}
