"""`vrft demo` end to end (small): the report's verdicts and intervals are computed from the same
answers the evaluation files hold, and the frames and boxes it shows are those of the generated videos."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import numpy as np
import pyarrow.parquet as pq
import pytest
from PIL import Image

from pipelines.synthetic_raw import COLOURS
from rewards import floor_names
from tests.conftest import ROOT

SYSTEMS = {"random": "eval-random", "warm start": "eval-warm", "GRPO": "eval-grpo"}


def test_demo_writes_a_report_of_the_whole_job(tmp_path):
    out = tmp_path / "demo"  # given relative to the working directory, as `make demo` gives runs/demo
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    res = subprocess.run([sys.executable, "-m", "vrft", "demo", "--out", "demo", "--videos", "4", "--eval-videos", "8",
                          "--steps", "2", "--warm-steps", "6"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-3000:]
    assert f"report: {(out / 'report.html').resolve()}" in res.stdout

    page = (out / "report.html").read_text()
    assert 'src="report/rewards.png"' in page and "validation: passed" in page
    steps = [json.loads(line)["step"] for line in (out / "train" / "metrics.jsonl").read_text().splitlines()]
    assert steps == [1, 2]                                  # the curve is this run's
    for task in ("tracking", "temporal_grounding", "grounded_qa", "video_qa"):
        assert f'src="report/sample-{task}.png"' in page and (out / "report" / f"sample-{task}.png").stat().st_size > 10_000

    # every metric in comparison.json: the point value is the evaluation file's, inside its interval;
    # each verdict is what its difference's interval says; the report prints them
    comparison = json.loads((out / "comparison.json").read_text())
    metrics = {name: json.loads((out / folder / "metrics.json").read_text())["tasks"] for name, folder in SYSTEMS.items()}
    assert sorted(comparison["tasks"]) == ["grounded_qa", "temporal_grounding", "tracking", "video_qa"]
    for task, rows in comparison["tasks"].items():
        for row in rows:
            assert row["n"] == 8                           # one held-out sample per held-out video
            comp, metric = row["component"], row["metric"]
            for name, iv in row["values"].items():
                assert iv["low"] - 1e-9 <= iv["value"] <= iv["high"] + 1e-9, (task, comp, metric, name)
                if name in SYSTEMS:
                    assert iv["value"] == pytest.approx(metrics[name][task]["metrics"][comp][metric])
                elif name == "floor":
                    floor = floor_names(task)[comp]
                    assert iv["value"] == pytest.approx(metrics["GRPO"][task]["floors"][floor][comp][metric])
            for key, d in row["differences"].items():
                b, a = key.split(" - ")
                assert d["value"] == pytest.approx(row["values"][b]["value"] - row["values"][a]["value"])
                higher = -1 if metric == "unparsed" else 1
                expected = ("beat" if min(d["low"] * higher, d["high"] * higher) > 0 else
                            "worse" if max(d["low"] * higher, d["high"] * higher) < 0 else "no clear difference")
                assert d["verdict"] == expected, (task, metric, key)
        head = next(r for r in rows if r["primary"])
        g, w = head["values"]["GRPO"], head["values"]["warm start"]
        digits = 1   # every metric in percent
        gain = head["differences"]["GRPO - warm start"]
        f = lambda x, sign="": f"{x['value']:{sign}.{digits}f} [{x['low']:{sign}.{digits}f}, {x['high']:{sign}.{digits}f}]"  # noqa: E731
        said = (f"{task}, {head['component']} {head['metric']} (8 held-out samples): GRPO {f(g)}; it ",
                f" the warm start ({f(w)}): {f(gain, '+')}")
        assert all(part in page for part in said), said
    assert "percentile bootstrap over samples (1000 resamples, 95%)" in page
    assert "/gx/" not in page   # the dataset plots are the report's figures, not Great Expectations' logos

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
