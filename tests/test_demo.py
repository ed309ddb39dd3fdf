"""`vrft demo` end to end (small): the report holds the run's reward curve, and the frames and boxes it
shows are those of the generated videos."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import numpy as np
import pyarrow.parquet as pq
from PIL import Image

from pipelines.synthetic_raw import COLOURS
from tests.conftest import ROOT


def test_demo_writes_a_report_of_the_whole_job(tmp_path):
    out = tmp_path / "demo"  # given relative to the working directory, as `make demo` gives runs/demo
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    res = subprocess.run([sys.executable, "-m", "vrft", "demo", "--out", "demo", "--videos", "6", "--steps", "2",
                          "--warm-steps", "10"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-3000:]
    assert f"report: {(out / 'report.html').resolve()}" in res.stdout

    page = (out / "report.html").read_text()
    assert 'src="report/rewards.png"' in page and "validation: passed" in page
    steps = [json.loads(line)["step"] for line in (out / "train" / "metrics.jsonl").read_text().splitlines()]
    assert steps == [1, 2]                                  # the curve is this run's
    for task in ("tracking", "temporal_grounding", "grounded_qa", "video_qa"):
        assert f'src="report/sample-{task}.png"' in page and (out / "report" / f"sample-{task}.png").stat().st_size > 10_000
    for column in ("random", "warm start", "GRPO", "floor"):
        assert f"<th>{column}</th>" in page

    # the tracking samples' frames are the generated video's frames at the box times, the square inside each box
    samples = [r for r in pq.read_table(out / "ingested" / "samples").to_pylist() if r["task"] == "tracking"]
    videos = {v["video_key"]: v for v in pq.read_table(out / "ingested" / "videos").to_pylist()}
    assert samples
    for sample in samples:
        video = videos[sample["video_key"]]
        assert video["timestamps"] == [b["t"] for b in sample["boxes"]]
        colour = np.array(COLOURS[sample["query"].split()[0]])
        for box, jpeg in zip(sample["boxes"], video["frames"]):
            img = np.asarray(Image.open(io.BytesIO(jpeg)).convert("RGB")).astype(int)
            h, w = img.shape[:2]
            inside = img[int(box["y0"] * h) + 2 : int(box["y1"] * h) - 2, int(box["x0"] * w) + 2 : int(box["x1"] * w) - 2]
            assert (np.abs(inside - colour).sum(-1) < 90).mean() > 0.9
