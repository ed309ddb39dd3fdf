"""`vrft eval`: the trivial floors on the real annotations through the same path that scores models,
and a model evaluated on shards, resumable."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from pipelines.ingest import IngestConfig, run_ingest
from pipelines.sources import SourceOptions
from tests.conftest import ROOT


def vrft(*args):
    res = subprocess.run([sys.executable, "-m", "vrft", *map(str, args)], cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    return res


def ingest_labels(out, dataset, *files, **source):
    cfg = IngestConfig(dataset, SourceOptions(tuple(str(f) for f in files), **source), str(out), frames=False)
    run_ingest(cfg, ["--direct_num_workers=1"])
    return out


def test_whole_video_floor_on_charades_sta_test(real_data, tmp_path):
    d = real_data / "charades_sta"
    data = ingest_labels(tmp_path / "data", "charades-sta", d / "charades_sta_test.txt", durations=str(d / "charades.json"))
    res = vrft("eval", "--baseline", "whole-video", "--data", data, "--out", tmp_path / "eval")
    metrics = json.loads((tmp_path / "eval" / "metrics.json").read_text())["tasks"]["temporal_grounding"]
    assert metrics["n"] == 3720
    assert round(metrics["metrics"]["iou"]["miou"], 1) == 27.1  # ends clipped to the video by the repair policy
    assert metrics["metrics"]["iou"]["unparsed"] == 0.0
    assert "27.130" in res.stdout and "whole-video" in res.stdout
    assert "| temporal_grounding | 3720 | iou | miou | 27.130 |" in (tmp_path / "eval" / "metrics.md").read_text()


@pytest.mark.parametrize("profile, ao", [("videochat-r1", 0.424), ("default", 0.341)])
def test_copy_first_box_floor_on_got10k_val(real_data, tmp_path, profile, ao):
    data = ingest_labels(tmp_path / "data", "videochat-r1", real_data / "videochat_r1" / "got_val.json")
    vrft("eval", "--baseline", "copy-first-box", "--data", data, "--out", tmp_path / "eval", "--profile", profile)
    metrics = json.loads((tmp_path / "eval" / "metrics.json").read_text())["tasks"]["tracking"]
    assert metrics["n"] == 180 and round(metrics["metrics"]["iou"]["ao"], 3) == ao


def test_model_eval_on_shards_resumes(tmp_path):
    from train.tiny_model import save_tiny_model
    from train.synthetic_training_shards import write_toy_shards

    model = save_tiny_model(tmp_path / "model", seed=0)
    write_toy_shards(tmp_path / "shards", rows=6, files=2)
    out = tmp_path / "eval"
    vrft("eval", "--model", model, "--data", tmp_path / "shards", "--out", out, "--batch-size", "4", "--max-new-tokens", "6")
    lines = (out / "predictions.jsonl").read_text().splitlines()
    assert sorted(json.loads(x)["sample_id"] for x in lines) == [f"toy-{i:05d}" for i in range(6)]
    report = json.loads((out / "metrics.json").read_text())["tasks"]["temporal_grounding"]
    # six tokens of a random model hold no <answer> block: every answer is unparsed, every IoU 0
    assert not any("<answer>" in json.loads(x)["completion"] for x in lines)
    assert report["n"] == 6
    assert report["metrics"]["iou"] == {"miou": 0.0, "r@0.3": 0.0, "r@0.5": 0.0, "r@0.7": 0.0, "unparsed": 100.0}
    # the whole-video floor on the same six samples: 2 s videos, 0.5 s spans, IoU 0.25 each
    assert report["floor"]["iou"] == {"miou": 25.0, "r@0.3": 0.0, "r@0.5": 0.0, "r@0.7": 0.0, "unparsed": 0.0}

    # a run killed mid-file: two predictions kept, the third torn; the rerun completes without redoing them
    (out / "predictions.jsonl").write_text("\n".join(lines[:2]) + "\n" + lines[2][:10])
    vrft("eval", "--model", model, "--data", tmp_path / "shards", "--out", out, "--max-new-tokens", "6")
    again = [json.loads(x) for x in (out / "predictions.jsonl").read_text().splitlines()[2:]]
    assert sorted(r["sample_id"] for r in again) == sorted(json.loads(x)["sample_id"] for x in lines[2:])
    assert (out / "predictions.jsonl").read_text().splitlines()[:2] == lines[:2]


def test_eval_refuses_bad_arguments(tmp_path):
    res = subprocess.run([sys.executable, "-m", "vrft", "eval", "--data", tmp_path, "--out", tmp_path / "o"], cwd=ROOT,
                         capture_output=True, text=True)
    assert res.returncode == 2 and "either --model DIR or --baseline NAME" in res.stderr
