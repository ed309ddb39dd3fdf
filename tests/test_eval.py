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
    assert metrics["n"] == 3720 and metrics["benchmark"] == "Charades-STA / ActivityNet"
    # against the spans as published (the reference's code gives 26.99 and 34.30), not the clipped ones
    assert round(metrics["metrics"]["iou"]["mIoU"], 2) == 26.99 and round(metrics["metrics"]["iou"]["R1@0.3"], 2) == 34.30
    assert metrics["metrics"]["iou"]["unparsed"] == 0.0
    assert "26.99" in res.stdout and "whole-video" in res.stdout and "mIoU (%)" in res.stdout
    md = (tmp_path / "eval" / "metrics.md").read_text()
    assert "| temporal_grounding | Charades-STA / ActivityNet | 3720 | iou | mIoU (%) | 26.99 |" in md
    # the baseline's answers are written as a model's are: one line per sample, in the answer contract
    lines = [json.loads(x) for x in (tmp_path / "eval" / "predictions.jsonl").read_text().splitlines()]
    assert len(lines) == 3720 and {"sample_id", "task", "completion"} == set(lines[0])
    assert lines[0]["completion"].startswith("<think>baseline</think><answer>0.00 to ")


def test_nextgqa_test_through_ingestion_gives_the_official_numbers(real_data, tmp_path):
    """Labels-only ingestion of NExT-GQA test (5,552 of 5,553 questions written: one has an ambiguous
    answer) then the whole-video glue. Ingestion takes a video's real length (test.csv's frame_count over
    gsub's fps), so the glue is [0, that length], a little longer than gsub's whole-second `duration`.
    Expected: the official script (doc-doc/NExT-GQA code/TempGQA/eval_ground.py) run once here on
    gsub_test.json with [0, frame_count / fps] for every question printed mIoP 21.1, IoP@0.3 20.4, IoP@0.5
    8.6, mIoU 21.1, IoU@0.3 20.4, IoU@0.5 8.6, so Acc@GQA 8.6 with the true answer (with [0, gsub duration]
    it prints 21.1 20.6 8.7: tests/test_benchmark_metrics.py)."""
    from rewards import write_answer
    from train.eval_items import read_items
    from train.eval_report import score_predictions

    data = ingest_labels(tmp_path / "data", "nextgqa", real_data / "nextgqa" / "test.csv")
    vrft("eval", "--baseline", "whole-video", "--data", data, "--out", tmp_path / "eval")
    got = json.loads((tmp_path / "eval" / "metrics.json").read_text())["tasks"]["grounded_qa"]
    assert got["n"] == 5552 and got["benchmark"] == "NExT-GQA"
    want = {"mIoP": 21.1, "IoP@0.3": 20.4, "IoP@0.5": 8.6, "mIoU": 21.1, "IoU@0.3": 20.4, "IoU@0.5": 8.6}
    assert {k: round(got["metrics"]["iou"][k], 1) for k in want} == want
    assert got["metrics"]["accuracy"]["unparsed"] == 100.0  # the baseline names no option

    items = read_items(data)
    answered = {i.sample_id: write_answer("grounded_qa", {"answer": i.truth["answer_index"],
                                                           "glue": [(0.0, i.truth["duration"])]}, True) for i in items}
    report = score_predictions(items, answered, "default").task("grounded_qa")
    assert round(report.metric("accuracy", "Acc@GQA").value, 1) == 8.6
    assert report.metric("accuracy", "Acc@QA").value == 100.0


@pytest.mark.parametrize("profile, ao", [("videochat-r1", 42.4), ("default", 34.1)])
def test_copy_first_box_floor_on_got10k_val(real_data, tmp_path, profile, ao):
    data = ingest_labels(tmp_path / "data", "videochat-r1", real_data / "videochat_r1" / "got_val.json")
    vrft("eval", "--baseline", "copy-first-box", "--data", data, "--out", tmp_path / "eval", "--profile", profile)
    metrics = json.loads((tmp_path / "eval" / "metrics.json").read_text())["tasks"]["tracking"]
    assert metrics["n"] == 180 and round(metrics["metrics"]["iou"]["AO"], 1) == ao
    assert metrics["benchmark"] == "GOT-10k" and metrics["units"]["iou"]["AO"] == "%"


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
    assert report["metrics"]["iou"] == {"mIoU": 0.0, "R1@0.3": 0.0, "R1@0.5": 0.0, "R1@0.7": 0.0, "unparsed": 100.0}
    # the whole-video floor on the same six samples: 2 s videos, 0.5 s spans, IoU 0.25 each
    assert report["floors"]["whole-video"]["iou"] == {"mIoU": 25.0, "R1@0.3": 0.0, "R1@0.5": 0.0, "R1@0.7": 0.0}

    # a run killed mid-file: two predictions kept, the third torn; the rerun completes without redoing them
    (out / "predictions.jsonl").write_text("\n".join(lines[:2]) + "\n" + lines[2][:10])
    vrft("eval", "--model", model, "--data", tmp_path / "shards", "--out", out, "--max-new-tokens", "6")
    again = [json.loads(x) for x in (out / "predictions.jsonl").read_text().splitlines()[2:]]
    assert sorted(r["sample_id"] for r in again) == sorted(json.loads(x)["sample_id"] for x in lines[2:])
    assert (out / "predictions.jsonl").read_text().splitlines()[:2] == lines[:2]


def test_help_says_where_baseline_predictions_go():
    text = " ".join(vrft("eval", "--help").stdout.split())
    assert "its answers are written to OUT/predictions.jsonl as a model's are" in text


def test_eval_refuses_bad_arguments(tmp_path):
    res = subprocess.run([sys.executable, "-m", "vrft", "eval", "--data", tmp_path, "--out", tmp_path / "o"], cwd=ROOT,
                         capture_output=True, text=True)
    assert res.returncode == 2 and "either --model DIR or --baseline NAME" in res.stderr


def test_predictions_belong_to_the_model_that_wrote_them(tmp_path):
    import shutil

    from train.synthetic_training_shards import write_toy_shards
    from train.tiny_model import save_tiny_model

    first, second = save_tiny_model(tmp_path / "a", seed=0), save_tiny_model(tmp_path / "b", seed=1)
    write_toy_shards(tmp_path / "shards", rows=2, files=1)
    out = tmp_path / "eval"
    common = ["--data", tmp_path / "shards", "--out", out, "--max-new-tokens", "4"]
    vrft("eval", "--model", first, *common)
    before = (out / "predictions.jsonl").read_text()
    writer = json.loads((out / "predictions.model.json").read_text())
    assert writer["model"] == str(first.resolve()) and len(writer["fingerprint"]) == 64
    assert json.loads((out / "metrics.json").read_text())["writer"]["fingerprint"] == writer["fingerprint"]

    def refused(*args):
        res = subprocess.run([sys.executable, "-m", "vrft", "eval", *map(str, args)], cwd=ROOT, capture_output=True,
                             text=True)
        assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr
        assert "holds predictions of another model" in res.stderr and str(first.resolve()) in res.stderr
        assert (out / "predictions.jsonl").read_text() == before   # the first model's predictions untouched

    refused("--model", second, *common)                            # other weights
    refused("--model", first, *common[:-1], "8")                   # other generation length
    refused("--baseline", "whole-video", *common[:-2])             # a baseline is a writer too
    shutil.copytree(first, tmp_path / "a-copy")                    # the same bytes elsewhere: the same model
    vrft("eval", "--model", tmp_path / "a-copy", *common)
    assert (out / "predictions.jsonl").read_text() == before       # resumed: nothing generated again


def test_fingerprint_hashes_content_and_reuses_an_unchanged_stat(tmp_path):
    import os

    from train.fingerprint import model_fingerprint

    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "config.json").write_text("{}")
    (tmp_path / "m" / "model.safetensors").write_bytes(bytes(1000))
    first = model_fingerprint(tmp_path / "m")
    assert model_fingerprint(tmp_path / "m", {**first, "fingerprint": "kept"})["fingerprint"] == "kept"  # no reread
    st = os.stat(tmp_path / "m" / "model.safetensors")
    (tmp_path / "m" / "model.safetensors").write_bytes(bytes(999) + b"\x01")   # one byte, same size
    os.utime(tmp_path / "m" / "model.safetensors", ns=(st.st_atime_ns, st.st_mtime_ns + 1))
    assert model_fingerprint(tmp_path / "m", first)["fingerprint"] != first["fingerprint"]


def test_predictions_without_a_readable_record_of_their_writer_are_not_resumed(tmp_path):
    from train.predict import OtherPredictions, claim

    (tmp_path / "predictions.jsonl").write_text('{"sample_id": "a", "task": "video_qa", "completion": "x"}\n')
    (tmp_path / "predictions.model.json").write_text("{not json")
    with pytest.raises(OtherPredictions, match="no record of which model"):
        claim(tmp_path, {"model": "m", "fingerprint": "f", "max_new_tokens": 4})
    (tmp_path / "predictions.jsonl").write_text("")          # nothing held: the new writer takes the folder
    claim(tmp_path, {"model": "m", "fingerprint": "f", "max_new_tokens": 4})
    assert json.loads((tmp_path / "predictions.model.json").read_text())["fingerprint"] == "f"
