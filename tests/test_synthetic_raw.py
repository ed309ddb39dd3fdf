"""The demo's generated dataset: what its annotations say is what its videos show."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest

import schemas
from pipelines.synthetic_raw import COLOURS, make_dataset


def _decode(path, width, height):
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, height, width, 3)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    out = tmp_path_factory.mktemp("syn")
    files = make_dataset(out, n_videos=2, seed=3, eval_videos=1)
    rows = [json.loads(line) for f in files.values() for line in f.read_text().splitlines()]
    return out, rows


def test_rows_are_valid_samples(dataset):
    _, rows = dataset
    assert sorted({r["task"] for r in rows}) == ["grounded_qa", "temporal_grounding", "tracking", "video_qa"]
    assert {r["split"] for r in rows} == {"train", "eval"}
    for i, row in enumerate(rows):
        clean = {k: v for k, v in row.items() if k != "video"}
        assert schemas.check_record({**clean, "sample_id": f"s{i}"}) == []


def test_boxes_and_spans_are_what_the_video_shows(dataset):
    out, rows = dataset
    for row in rows:
        frames = _decode(out / "videos" / row["video"], 224, 168)
        fps = len(frames) / row["duration"]
        if row["task"] == "tracking":
            colour = np.array(COLOURS[row["query"].split()[0]])
            for box in row["boxes"]:
                img = frames[round(box["t"] * fps)].astype(int)
                mask = np.abs(img - colour).sum(-1) < 60
                ys, xs = np.nonzero(mask)
                found = (xs.min() / 224, ys.min() / 168, (xs.max() + 1) / 224, (ys.max() + 1) / 168)
                assert found == pytest.approx((box["x0"], box["y0"], box["x1"], box["y1"]), abs=2 / 168)
        if row["task"] == "temporal_grounding":
            event = np.array(COLOURS[row["query"].split()[-1]])
            background = np.median(frames.reshape(len(frames), -1, 3), axis=1)  # the square is ~4% of a frame
            on = np.abs(background - event).sum(-1) < 60
            first, last = np.nonzero(on)[0][[0, -1]]
            assert first / fps == pytest.approx(row["span"]["start"]) and (last + 1) / fps == pytest.approx(row["span"]["end"])
