"""Checks every videos-table row must pass (shared by the video tests)."""

from __future__ import annotations

import io

import pyarrow as pa
from PIL import Image

from pipelines.video.policy import FramePolicy
from schemas.tables import videos_schema


def check_row(row: dict, policy: FramePolicy = FramePolicy()) -> list[Image.Image]:
    """Assert the row is complete, on the grid, within budget, typed as the schema; return its frames."""
    ts, frames = row["timestamps"], row["frames"]
    n = len(ts)
    assert n == len(frames) >= 1
    assert all(b > a for a, b in zip(ts, ts[1:])), "timestamps must ascend"
    assert 0 <= ts[0] and ts[-1] <= row["duration"] + 1e-6, "timestamps must lie inside the video"
    w, h = row["frame_width"], row["frame_height"]
    assert w % policy.factor == 0 and h % policy.factor == 0
    n_eff = n + n % 2
    assert policy.min_pixels <= w * h <= min(policy.max_pixels, policy.total_pixels * 2 / n_eff)
    assert w * h * n_eff / 2 <= policy.total_pixels
    assert row["sampled_fps"] > 0 and row["plan"] == policy.to_struct()
    images = [Image.open(io.BytesIO(f)) for f in frames]
    assert all(im.format == "JPEG" and im.size == (w, h) and im.mode == "RGB" for im in images)
    table = pa.Table.from_pylist([{"video_key": "k", **row}], schema=videos_schema())
    assert table.num_rows == 1 and set(row) | {"video_key"} == set(videos_schema().names)
    return images
