"""Metrics and the trivial floors, through the same components that score models, on the real
annotation files: the figures docs/reference.md gives."""

from __future__ import annotations

import json

import pytest

from rewards import evaluate, floor_names, floor_predictions, floors


def _charades_truths(real_data, clip: bool):
    """Charades-STA test as published; with `clip`, ends clipped to the video as the repair policy does,
    the published span kept beside (as ingestion records it) when `clip == "recorded"`."""
    durations = json.loads((real_data / "charades_sta" / "charades.json").read_text())
    out = []
    for line in (real_data / "charades_sta" / "charades_sta_test.txt").read_text().splitlines():
        if not line.strip():
            continue
        head, _ = line.split("##", 1)
        vid, s, e = head.split()
        d = durations[vid]["duration"]
        s, e = float(s), float(e)
        truth = {"span": {"start": s, "end": e}, "duration": d}
        if clip:
            truth["span"] = {"start": max(0.0, s), "end": min(e, d)}
            if clip == "recorded" and truth["span"] != {"start": s, "end": e}:
                truth["published"] = {"span": {"start": s, "end": e}}
        out.append(truth)
    return out


@pytest.mark.parametrize("clip, miou, r03", [(False, 26.99, 34.30), ("recorded", 26.99, 34.30), (True, 27.13, 35.00)])
def test_whole_video_floor_on_charades_test(real_data, clip, miou, r03):
    truths = _charades_truths(real_data, clip)
    assert len(truths) == 3720
    got = evaluate("temporal_grounding", floor_predictions("temporal_grounding", truths), truths)["iou"]
    assert (round(got["mIoU"], 2), round(got["R1@0.3"], 2)) == (miou, r03)
    assert got["unparsed"] == 0.0 and got["R1@0.7"] <= got["R1@0.5"] <= got["R1@0.3"]
    assert floor_names("temporal_grounding") == {"iou": "whole-video"}
    assert floors("temporal_grounding", truths)["whole-video"]["iou"] == {k: v for k, v in got.items() if k != "unparsed"}


def test_whole_video_floor_on_activitynet_val2(real_data):
    data = json.loads((real_data / "activitynet_captions" / "val_2.json").read_text())
    truths = [{"span": {"start": s, "end": e}, "duration": v["duration"]} for v in data.values() for s, e in v["timestamps"]]
    got = evaluate("temporal_grounding", floor_predictions("temporal_grounding", truths), truths)["iou"]
    assert round(got["mIoU"], 1) == 34.6


@pytest.mark.parametrize("include_given, ao", [(True, 42.4), (False, 34.1)])
def test_copy_first_box_floor_on_got10k_val(real_data, include_given, ao):
    tracks = json.loads((real_data / "videochat_r1" / "got_val.json").read_text())
    truths = [
        {"boxes": [{"t": i / 10, "x0": b[0], "y0": b[1], "x1": b[2], "y1": b[3]} for i, b in enumerate(t["gt"])]}
        for t in tracks
    ]
    assert len(truths) == 180
    got = evaluate("tracking", floor_predictions("tracking", truths), truths, include_given=include_given)["iou"]
    assert round(got["AO"], 1) == ao
    assert got["AO per track"] == pytest.approx(got["AO"])  # every track has 8 boxes: the two means agree
    assert 0.0 <= got["SR@0.75"] <= got["SR@0.5"] <= 100.0
