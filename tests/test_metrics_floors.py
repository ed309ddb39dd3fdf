"""Metrics and the trivial floors, through the same components that score models, on the real
annotation files: the figures docs/reference.md gives."""

from __future__ import annotations

import json

import pytest

from rewards import evaluate, floor_names, floor_predictions


def _charades_truths(real_data, clip: bool):
    durations = json.loads((real_data / "charades_sta" / "charades.json").read_text())
    out = []
    for line in (real_data / "charades_sta" / "charades_sta_test.txt").read_text().splitlines():
        if not line.strip():
            continue
        head, _ = line.split("##", 1)
        vid, s, e = head.split()
        d = durations[vid]["duration"]
        s, e = float(s), float(e)
        if clip:
            s, e = max(0.0, s), min(e, d)
        out.append({"span": {"start": s, "end": e}, "duration": d})
    return out


@pytest.mark.parametrize("clip, miou", [(False, 27.0), (True, 27.1)])
def test_whole_video_floor_on_charades_test(real_data, clip, miou):
    truths = _charades_truths(real_data, clip)
    assert len(truths) == 3720
    got = evaluate("temporal_grounding", floor_predictions("temporal_grounding", truths), truths)["iou"]
    assert round(got["miou"], 1) == miou
    assert got["unparsed"] == 0.0 and got["r@0.7"] <= got["r@0.5"] <= got["r@0.3"]
    assert floor_names("temporal_grounding") == {"iou": "whole-video"}


def test_whole_video_floor_on_activitynet_val2(real_data):
    data = json.loads((real_data / "activitynet_captions" / "val_2.json").read_text())
    truths = [{"span": {"start": s, "end": e}, "duration": v["duration"]} for v in data.values() for s, e in v["timestamps"]]
    got = evaluate("temporal_grounding", floor_predictions("temporal_grounding", truths), truths)["iou"]
    assert round(got["miou"], 1) == 34.6


def test_whole_video_glue_floor_on_nextgqa_test(real_data):
    data = json.loads((real_data / "nextgqa" / "gsub_test.json").read_text())
    truths = [
        {"spans": [{"start": s, "end": e} for s, e in locs], "duration": v["duration"], "choices": ["a", "b"], "answer_index": 0}
        for v in data.values() for locs in v["location"].values()
    ]
    preds = floor_predictions("grounded_qa", truths)
    assert set(preds[0]) == {"glue"}  # multiple choice has no floor of its own
    got = evaluate("grounded_qa", preds, truths)
    assert round(got["iou"]["miou"], 1) == 22.6
    assert got["accuracy"]["unparsed"] == 100.0


@pytest.mark.parametrize("include_given, ao", [(True, 0.424), (False, 0.341)])
def test_copy_first_box_floor_on_got10k_val(real_data, include_given, ao):
    tracks = json.loads((real_data / "videochat_r1" / "got_val.json").read_text())
    truths = [
        {"boxes": [{"t": i / 10, "x0": b[0], "y0": b[1], "x1": b[2], "y1": b[3]} for i, b in enumerate(t["gt"])]}
        for t in tracks
    ]
    assert len(truths) == 180
    got = evaluate("tracking", floor_predictions("tracking", truths), truths, include_given=include_given)["iou"]
    assert round(got["ao"], 3) == ao
    assert 0.0 <= got["sr@0.7"] <= got["sr@0.5"] <= 1.0


def test_metrics_count_unparsed_as_misses():
    truths = [{"span": {"start": 0.0, "end": 10.0}, "duration": 20.0}] * 4
    preds = [{"answer": (0.0, 10.0)}, {"answer": (0.0, 5.0)}, {"answer": None}, {"answer": (2.0, 10.0)}]
    got = evaluate("temporal_grounding", preds, truths)["iou"]
    assert got == {"miou": pytest.approx(100 * (1 + 0.5 + 0 + 0.8) / 4), "r@0.3": 75.0, "r@0.5": 75.0, "r@0.7": 50.0,
                   "unparsed": 25.0}
