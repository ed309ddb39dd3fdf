"""Metrics and the trivial floors, through the same components that score models: exact values on
hand-made predictions, and on the real annotation files the figures docs/reference.md gives."""

from __future__ import annotations

import json

import pytest

from rewards import evaluate, floor_names, floor_predictions, floors

# --- hand-made predictions, values by hand -------------------------------------------------------


def test_spanset_and_choice_metrics():
    base = {"spans": [{"start": 0.0, "end": 10.0}], "duration": 60.0, "choices": ["a", "b", "c"], "answer_index": 1}
    preds = [{"answer": 1, "glue": [(0.0, 10.0)]}, {"answer": 0, "glue": [(0.0, 5.0)]},
             {"answer": 1, "glue": []}, {"answer": None, "glue": None}]
    # per question (IoU, IoP) against [0, 10]: (1, 1), (0.5, 1), no evidence (0, 0), unreadable (0, 0);
    # Acc@GQA: right and IoP >= 0.5 on the first only; the merged-set IoU equals the IoU with one interval
    assert evaluate("grounded_qa", preds, [base] * 4) == {
        "accuracy": {"Acc@QA": 50.0, "Acc@GQA": 25.0, "unparsed": 25.0},
        "iou": {"mIoP": 50.0, "IoP@0.3": 50.0, "IoP@0.5": 50.0, "mIoU": pytest.approx(37.5), "IoU@0.3": 50.0,
                "IoU@0.5": 50.0, "VideoChat-R1 mIoU": pytest.approx(37.5), "unparsed": 25.0},
    }


BOXES = [(0.0, 0.0, 0.5, 0.5), (0.25, 0.25, 0.75, 0.75), (0.5, 0.5, 1.0, 1.0)]
TRACK = {"boxes": [{"t": float(i), "x0": a, "y0": b, "x1": c, "y1": d} for i, (a, b, c, d) in enumerate(BOXES)]}
TRACKS = [
    {"answer": list(BOXES)},                                                  # frames 1, 2: IoU 1, 1
    {"answer": [BOXES[0], (0.25, 0.25, 0.75, 0.5), (0.0, 0.0, 0.1, 0.1)]},   # IoU 0.5 (half the box), 0
    {"answer": None},                                                         # unparsed: 0, 0
]


def test_track_metrics_leave_out_the_given_box():
    """AO is the mean IoU of frames 1..n pooled over the tracks (percent); the success rate counts frames
    with IoU > 0.5 / 0.75 (strictly, as GOT-10k), an IoU of exactly 0.5 not included. Frame IoUs: 1, 1;
    0.5, 0; 0, 0 (tracks of one length: the per-track mean is the same)."""
    assert evaluate("tracking", TRACKS, [TRACK] * 3) == {"iou": {
        "AO": pytest.approx(100 * 2.5 / 6), "SR@0.5": pytest.approx(100 * 2 / 6), "SR@0.75": pytest.approx(100 * 2 / 6),
        "AO per track": pytest.approx(100 * (1.0 + 0.25 + 0.0) / 3), "unparsed": pytest.approx(100 / 3)}}


def test_track_metrics_with_the_given_box_as_the_reference_counts():
    # frame IoUs 1, 1, 1; 1, 0.5, 0; 0, 0, 0
    assert evaluate("tracking", TRACKS, [TRACK] * 3, include_given=True) == {"iou": {
        "AO": pytest.approx(100 * 4.5 / 9), "SR@0.5": pytest.approx(100 * 4 / 9), "SR@0.75": pytest.approx(100 * 4 / 9),
        "AO per track": pytest.approx(100 * (1.0 + 0.5 + 0.0) / 3), "unparsed": pytest.approx(100 / 3)}}


def test_metrics_of_nothing_and_of_one_answer():
    assert evaluate("temporal_grounding", [], []) == {"iou": {"mIoU": 0.0, "R1@0.3": 0.0, "R1@0.5": 0.0, "R1@0.7": 0.0,
                                                              "unparsed": 0.0}}
    truth = {"choices": ["a", "b"], "answer_index": 0}
    assert evaluate("video_qa", [{"answer": None}], [truth]) == {"accuracy": {"accuracy": 0.0, "unparsed": 100.0}}
    assert evaluate("video_qa", [{"answer": 0}], [truth]) == {"accuracy": {"accuracy": 100.0, "unparsed": 0.0}}


def test_floor_predictions_by_hand():
    span_truth = {"span": {"start": 1.0, "end": 2.0}, "duration": 12.5}
    assert floor_predictions("temporal_grounding", [span_truth]) == [{"answer": (0.0, 12.5)}]
    gqa = {"spans": [{"start": 1.0, "end": 2.0}], "duration": 40.0, "choices": ["a", "b"], "answer_index": 0}
    assert floor_predictions("grounded_qa", [gqa, {**gqa, "duration": 8}]) == [{"glue": [(0.0, 40.0)]}, {"glue": [(0.0, 8.0)]}]
    assert floor_predictions("tracking", [TRACK]) == [{"answer": [BOXES[0]] * 3}]
    assert floor_predictions("video_qa", [gqa]) is None
    assert floor_names("grounded_qa") == {"iou": "whole-video"}
    assert floor_names("tracking") == {"iou": "copy-first-box"}
    assert floor_names("video_qa") == {}


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
