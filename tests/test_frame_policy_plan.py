"""The videos table stores the whole frame policy, and validation checks each row against its own: a run
ingested on another pixel grid (factor 32) passes validation, and its frames are on that grid."""

from __future__ import annotations

import dataclasses

import pyarrow.parquet as pq

from pipelines.ingest import IngestConfig, run_ingest
from pipelines.sources import SourceOptions
from pipelines.synthetic_raw import make_dataset
from pipelines.validate import validate_dataset
from pipelines.video.policy import FramePolicy
from schemas.tables import PLAN_TYPE


def test_the_plan_column_is_the_whole_policy():
    assert [f.name for f in PLAN_TYPE] == [f.name for f in dataclasses.fields(FramePolicy)]
    policy = FramePolicy(factor=32, jpeg_quality=80)
    assert policy.to_struct()["factor"] == 32 and FramePolicy(**policy.to_struct()) == policy


def test_a_run_on_another_grid_validates(tmp_path):
    raw = make_dataset(tmp_path / "raw", n_videos=1, seed=5, eval_videos=0)
    out = tmp_path / "ingested"
    source = SourceOptions((str(raw["train"]),), videos=str(tmp_path / "raw" / "videos"))
    run_ingest(IngestConfig("jsonl", source, str(out), frame_policy={"factor": 32}), ["--direct_num_workers=1"])
    videos = pq.read_table(out / "videos").to_pylist()
    assert videos and all(v["plan"] == FramePolicy(factor=32).to_struct() for v in videos)
    sizes = {(v["frame_width"], v["frame_height"]) for v in videos if v["frames"]}
    assert sizes and all(w % 32 == 0 and h % 32 == 0 for w, h in sizes)
    assert any(w % 28 or h % 28 for w, h in sizes)  # a check on the default grid would have failed these
    result = validate_dataset(str(out), str(tmp_path / "report"))
    grid = [c for c in result.checks if c["column"].endswith("% plan.factor")]
    assert result.success, result.failures
    assert len(grid) == 2 and all(c["success"] and c["rows"] == len(videos) for c in grid)
