"""Metrics and the trivial floors, through the same components that score models: exact values on
hand-made predictions, and on the real annotation files the figures docs/reference.md gives."""

from __future__ import annotations

import json

import pytest

from rewards import evaluate, floor_names, floor_predictions

# --- hand-made predictions, values by hand -------------------------------------------------------


def test_spanset_and_choice_metrics():
    base = {"spans": [{"start": 0.0, "end": 10.0}], "duration": 60.0, "choices": ["a", "b", "c"], "answer_index": 1}
    preds = [{"answer": 1, "glue": [(0.0, 10.0)]}, {"answer": 0, "glue": [(0.0, 5.0)]},
             {"answer": 1, "glue": []}, {"answer": None, "glue": None}]
    assert evaluate("grounded_qa", preds, [base] * 4) == {
        "accuracy": {"accuracy": 50.0, "unparsed": 25.0},
        "iou": {"miou": pytest.approx(37.5), "r@0.3": 50.0, "r@0.5": 50.0, "unparsed": 25.0},
    }


BOXES = [(0.0, 0.0, 0.5, 0.5), (0.25, 0.25, 0.75, 0.75), (0.5, 0.5, 1.0, 1.0)]
TRACK = {"boxes": [{"t": float(i), "x0": a, "y0": b, "x1": c, "y1": d} for i, (a, b, c, d) in enumerate(BOXES)]}
TRACKS = [
    {"answer": list(BOXES)},                                                  # frames 1, 2: IoU 1, 1
    {"answer": [BOXES[0], (0.25, 0.25, 0.75, 0.5), (0.0, 0.0, 0.1, 0.1)]},   # IoU 0.5 (half the box), 0
    {"answer": None},                                                         # unparsed: 0, 0
]


def test_track_metrics_leave_out_the_given_box():
    """Average overlap is the mean over tracks of the mean IoU of frames 1..n; the success rate counts
    frames with IoU > 0.5 / 0.7 (strictly, as GOT-10k), an IoU of exactly 0.5 not included."""
    assert evaluate("tracking", TRACKS, [TRACK] * 3) == {"iou": {
        "ao": pytest.approx((1.0 + 0.25 + 0.0) / 3), "sr@0.5": pytest.approx(2 / 6), "sr@0.7": pytest.approx(2 / 6),
        "unparsed": pytest.approx(100 / 3)}}


def test_track_metrics_with_the_given_box_as_the_reference_counts():
    assert evaluate("tracking", TRACKS, [TRACK] * 3, include_given=True) == {"iou": {
        "ao": pytest.approx((1.0 + 0.5 + 0.0) / 3), "sr@0.5": pytest.approx(4 / 9), "sr@0.7": pytest.approx(4 / 9),
        "unparsed": pytest.approx(100 / 3)}}


def test_metrics_of_nothing_and_of_one_answer():
    assert evaluate("temporal_grounding", [], []) == {"iou": {"miou": 0.0, "r@0.3": 0.0, "r@0.5": 0.0, "r@0.7": 0.0,
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
