"""Benchmark metrics computed as each benchmark's official code computes them: NExT-GQA's
`eval_ground.py`, the GOT-10k toolkit, Charades-STA's R1@t and mIoU on the published spans; and the
accuracy floors. Expected values come from the official code run once on the same fixed inputs, or are
worked out by hand in the comments; none is computed with the function under test."""

from __future__ import annotations

import json

import pytest

from pipelines.normalize import RepairPolicy, normalize
from pipelines.sources.base import RawRecord
from rewards import evaluate, floors, score_one
from schemas import ground_truth


def gqa_truth(duration, segments, answer_index=0, n_choices=5):
    return {"spans": [{"start": s, "end": e} for s, e in segments], "duration": duration,
            "choices": [f"o{i}" for i in range(n_choices)], "answer_index": answer_index}


# (truth segments, duration, prediction, true answer, predicted answer) per question
NEXTGQA_FIXED = [
    ([(2.0, 6.0), (10.0, 20.0)], 30.0, [(12.0, 18.0)], 1, 1),   # IoU 0.6, IoP 1 (second segment)
    ([(5.0, 10.0)], 30.0, [(7.0, 7.0)], 2, 2),                  # zero length inside: IoU 0, IoP 1
    ([(5.0, 10.0)], 40.0, [(20.0, 20.0)], 0, 0),                # zero length outside: 0, 0
    ([(10.0, 20.0)], 40.0, [(5.0, 25.0)], 3, 1),                # IoU 0.5, IoP 0.5 (thresholds inclusive); wrong answer
    ([(0.0, 12.0), (30.0, 45.0)], 60.0, [(1.0, 4.0), (35.0, 44.0)], 4, 4),  # several intervals: hull (1, 44)
    ([(40.0, 50.0)], 60.0, [(36.0, 48.0)], 0, 0),               # IoU 8/14, IoP 8/12
]


def test_nextgqa_equals_the_official_script_on_fixed_predictions():
    """Expected: doc-doc/NExT-GQA code/TempGQA/eval_ground.py (commit 63772e0), `eval_ground(gt, pred,
    pred_qa)` run once on these six questions (the fifth handed over as its hull [1.0, 44.0], vrft's rule
    for several intervals), printed "Acc&GQA mIoP TIoP@0.3 TIoP@0.5 mIoU TIoU@0.3 TIoU@0.5" =
    "50.0 58.2 83.3 66.7 33.2 66.7 50.0". By hand: IoP 1, 1, 0, 0.5, 14/43, 8/12 -> mIoP 58.21; IoU 0.6, 0,
    0, 0.5, 14/44, 8/14 -> mIoU 33.16; Acc@GQA: right and IoP >= 0.5 on questions 1, 2, 6 -> 50.0."""
    truths = [gqa_truth(d, segs, a) for segs, d, _, a, _ in NEXTGQA_FIXED]
    preds = [{"answer": p, "glue": glue} for _, _, glue, _, p in NEXTGQA_FIXED]
    got = evaluate("grounded_qa", preds, truths)
    official = {"Acc@GQA": 50.0, "mIoP": 58.2, "IoP@0.3": 83.3, "IoP@0.5": 66.7, "mIoU": 33.2, "IoU@0.3": 66.7,
                "IoU@0.5": 50.0}
    ours = {**got["accuracy"], **got["iou"]}
    assert {k: round(ours[k], 1) for k in official} == official
    assert ours["mIoP"] == pytest.approx(100 * (1 + 1 + 0 + 0.5 + 14 / 43 + 8 / 12) / 6)
    assert ours["mIoU"] == pytest.approx(100 * (0.6 + 0 + 0 + 0.5 + 14 / 44 + 8 / 14) / 6)
    assert got["accuracy"]["Acc@QA"] == pytest.approx(100 * 5 / 6)  # all but the fourth answered right


def test_nextgqa_misses_and_the_merged_iou_under_its_own_name():
    truth = gqa_truth(30.0, [(10.0, 20.0)])
    preds = [{"answer": 0, "glue": None}, {"answer": 0, "glue": []}, {"answer": None, "glue": [(10.0, 15.0), (18.0, 30.0)]}]
    got = evaluate("grounded_qa", preds, [truth] * 3)
    # unreadable and empty glue are misses; the third: hull (10, 30) -> IoU 0.5, IoP 0.5;
    # merged sets {10-15, 18-30} vs {10-20}: intersection 5 + 2 = 7, union 17 + 10 - 7 = 20 -> 0.35
    assert got["iou"]["mIoU"] == pytest.approx(50 / 3) and got["iou"]["mIoP"] == pytest.approx(50 / 3)
    assert got["iou"]["VideoChat-R1 mIoU"] == pytest.approx(35 / 3)
    assert got["iou"]["unparsed"] == pytest.approx(100 / 3)
    assert got["accuracy"]["Acc@GQA"] == 0.0  # the grounded one has no answer; the answered ones no evidence


def _gsub_test(real_data):
    data = json.loads((real_data / "nextgqa" / "gsub_test.json").read_text())
    return [gqa_truth(v["duration"], locs) for v in data.values() for locs in v["location"].values()]


def test_nextgqa_test_whole_video_gives_the_official_numbers(real_data):
    """The official script on gsub_test.json with [0, duration] for all 5,553 questions and the true answer
    printed 8.7 21.1 20.6 8.7 21.1 20.6 8.7 (Acc@GQA, mIoP, IoP@0.3, IoP@0.5, mIoU, IoU@0.3, IoU@0.5)."""
    truths = _gsub_test(real_data)
    assert len(truths) == 5553
    preds = [{"answer": t["answer_index"], "glue": [(0.0, t["duration"])]} for t in truths]
    got = evaluate("grounded_qa", preds, truths)
    ours = {**got["accuracy"], **got["iou"]}
    want = {"Acc@GQA": 8.7, "mIoP": 21.1, "IoP@0.3": 20.6, "IoP@0.5": 8.7, "mIoU": 21.1, "IoU@0.3": 20.6, "IoU@0.5": 8.7}
    assert {k: round(ours[k], 1) for k in want} == want
    assert round(ours["VideoChat-R1 mIoU"], 2) == 22.65 and ours["Acc@QA"] == 100.0


# ---- GOT-10k ------------------------------------------------------------------------------------


def track(boxes):
    return {"boxes": [{"t": i / 10, "x0": b[0], "y0": b[1], "x1": b[2], "y1": b[3]} for i, b in enumerate(boxes)]}


TRUTH_BOX, THIRD_BOX = (0.25, 0.0, 0.75, 0.5), (0.0, 0.0, 0.5, 0.5)  # IoU 0.125 / 0.375 = 1/3


def test_got10k_ao_pools_frames_and_keeps_the_per_track_mean_apart():
    # a track of 3 boxes predicted perfectly, one of 21 with IoU 1/3 on every box; the given first box of
    # each is not scored (the toolkit evaluates frames [1:]): pooled (2 * 1 + 20 / 3) / 22 = 0.394,
    # per track (1 + 1/3) / 2 = 0.667
    truths = [track([TRUTH_BOX] * 3), track([TRUTH_BOX] * 21)]
    preds = [{"answer": [TRUTH_BOX] * 3}, {"answer": [TRUTH_BOX] + [THIRD_BOX] * 20}]
    got = evaluate("tracking", preds, truths)["iou"]
    assert got["AO"] == pytest.approx(100 * (2 + 20 / 3) / 22) and round(got["AO"], 1) == 39.4
    assert got["AO per track"] == pytest.approx(100 * 2 / 3)
    assert got["SR@0.5"] == pytest.approx(100 * 2 / 22) and got["SR@0.75"] == pytest.approx(100 * 2 / 22)


def test_got10k_success_is_strictly_above_the_threshold():
    half = (0.0, 0.0, 0.5, 0.25)  # against (0, 0, 0.5, 0.5): 0.125 / 0.25 = IoU 0.5 exactly, not a success
    truths = [track([(0.0, 0.0, 0.5, 0.5)] * 3)]
    got = evaluate("tracking", [{"answer": [(0.0, 0.0, 0.5, 0.5), half, (0.0, 0.0, 0.5, 0.5)]}], truths)["iou"]
    assert got["AO"] == pytest.approx(75.0) and got["SR@0.5"] == 50.0


def toolkit_overall(root, truths, preds, width=640, height=480) -> dict:
    """The toolkit's own evaluation (ExperimentGOT10k.report) of `preds` on a GOT-10k val folder written
    under `root` from `truths` (boxes in [0, 1] scaled to pixels, every frame visible). The toolkit comes
    from the test clients (the `clients` fixture: .clients, installed by scripts/clients.sh)."""
    import numpy as np
    from got10k.experiments.got10k import ExperimentGOT10k
    scale = np.array([width, height, width, height])
    xywh = lambda b: np.concatenate([b[:, :2], b[:, 2:] - b[:, :2]], axis=1) * scale  # noqa: E731
    names = []
    for k, (truth, pred) in enumerate(zip(truths, preds)):
        gt = np.array([[b[c] for c in ("x0", "y0", "x1", "y1")] for b in truth["boxes"]])
        n, name = len(gt), f"GOT-10k_Val_{k:06d}"
        seq = root / "data" / "val" / name
        seq.mkdir(parents=True)
        for i in range(n):
            (seq / f"{i + 1:08d}.jpg").write_bytes(b"")
        np.savetxt(seq / "groundtruth.txt", xywh(gt), delimiter=",", fmt="%.10f")
        for label in ("absence", "cut_by_image"):
            np.savetxt(seq / f"{label}.label", np.zeros(n), fmt="%d")
        np.savetxt(seq / "cover.label", np.full(n, 8), fmt="%d")
        (seq / "meta_info.ini").write_text(f"[METAINFO]\nresolution: ({width}, {height})\n")
        res = root / "results" / "GOT-10k" / "vrft" / name
        res.mkdir(parents=True)
        np.savetxt(res / f"{name}_001.txt", xywh(np.array(pred["answer"])), delimiter=",", fmt="%.10f")
        np.savetxt(res / f"{name}_time.txt", np.full(n, 0.01), fmt="%.3f")
        names.append(name)
    (root / "data" / "val" / "list.txt").write_text("\n".join(names))
    exp = ExperimentGOT10k(str(root / "data"), subset="val", result_dir=str(root / "results"),
                                   report_dir=str(root / "reports"))
    return exp.report(["vrft"])["vrft"]["overall"]


def test_got10k_equals_the_toolkit(clients, tmp_path, monkeypatch):
    """On tracks of different lengths with boxes that overlap the truth partly."""
    import numpy as np

    monkeypatch.setenv("MPLBACKEND", "Agg")
    rng = np.random.default_rng(0)
    truths, preds = [], []
    for n in (4, 9, 23, 8):
        gt = rng.uniform(0.05, 0.45, (n, 2))
        gt = np.concatenate([gt, gt + rng.uniform(0.1, 0.5, (n, 2))], axis=1)
        pred = np.clip(gt + rng.normal(0, 0.06, (n, 4)), 0, 1)
        pred[:, 2:] = np.maximum(pred[:, 2:], pred[:, :2] + 0.01)
        pred[0] = gt[0]  # the given box
        truths.append(track([tuple(b) for b in gt]))
        preds.append({"answer": [tuple(b) for b in pred]})
    overall = toolkit_overall(tmp_path, truths, preds)
    got = evaluate("tracking", preds, truths)["iou"]
    assert got["AO"] == pytest.approx(100 * overall["ao"], abs=1e-6)
    assert got["SR@0.5"] == pytest.approx(100 * overall["sr"], abs=1e-6)
    assert got["SR@0.75"] == pytest.approx(100 * overall["succ_curve"][75], abs=1e-6)
    assert 0 < overall["sr"] < 1 and got["AO per track"] != pytest.approx(got["AO"], abs=1e-3)


def test_got10k_copy_first_box_on_the_real_val_file_equals_the_toolkit(clients, real_data, tmp_path, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    tracks = json.loads((real_data / "videochat_r1" / "got_val.json").read_text())
    truths = [track([tuple(b) for b in t["gt"]]) for t in tracks]
    preds = [{"answer": [tuple(t["gt"][0])] * len(t["gt"])} for t in tracks]
    overall = toolkit_overall(tmp_path, truths, preds)
    got = evaluate("tracking", preds, truths)["iou"]
    assert got["AO"] == pytest.approx(100 * overall["ao"], abs=1e-6) and round(got["AO"], 1) == 34.1
    assert got["SR@0.5"] == pytest.approx(100 * overall["sr"], abs=1e-6)


# ---- Charades-STA / ActivityNet: the spans as published -----------------------------------------


def test_grounding_metrics_score_the_published_span_while_rewards_use_the_repaired_one():
    rec = RawRecord(dataset="charades_sta", source_file="t.txt", source_key="1", raw={"x": 1}, split="test")
    draft = {"task": "temporal_grounding", "video_key": "v", "query": "a person sits", "duration": 30.0,
             "span": {"start": 20.0, "end": 31.5}}
    row = normalize(draft, rec, RepairPolicy())
    assert row["span"] == {"start": 20.0, "end": 30.0} and row["repairs"] == ["span_end_clipped"]
    truth = ground_truth(row)
    assert truth["published"] == {"span": {"start": 20.0, "end": 31.5}}
    # the answer 20 to 30: reward against the clipped span is 1; the metric against the published one 10/11.5
    assert score_one("temporal_grounding", "<think>t</think><answer>20 to 30</answer>", truth)["iou"] == 1.0
    got = evaluate("temporal_grounding", [{"answer": (20.0, 30.0)}], [truth])["iou"]
    assert got["mIoU"] == pytest.approx(100 * 10 / 11.5) and got["R1@0.7"] == 100.0
    unrepaired = normalize({**draft, "span": {"start": 2.0, "end": 9.0}}, rec, RepairPolicy())
    assert unrepaired["published"] is None and "published" not in ground_truth(unrepaired)


def test_evidence_metrics_score_the_published_segments():
    rec = RawRecord(dataset="nextgqa", source_file="test.csv", source_key="1", raw={"x": 1}, split="test")
    draft = {"task": "grounded_qa", "video_key": "v", "query": "why?", "duration": 20.0, "choices": ["a", "b"],
             "answer_index": 0, "spans": [{"start": -1.0, "end": 4.0}, {"start": 10.0, "end": 12.0}]}
    truth = ground_truth(normalize(draft, rec, RepairPolicy()))
    assert truth["spans"][0] == {"start": 0.0, "end": 4.0} and truth["published"]["spans"] == draft["spans"]
    # the prediction (0, 4) against the published (-1, 4): IoU 4/5, IoP 1; against the clipped one IoU would be 1
    got = evaluate("grounded_qa", [{"answer": 0, "glue": [(0.0, 4.0)]}], [truth])
    assert got["iou"]["mIoU"] == pytest.approx(80.0) and got["iou"]["mIoP"] == 100.0


def test_grounding_recall_thresholds_are_inclusive():
    truths = [{"span": {"start": 0.0, "end": 10.0}, "duration": 20.0}] * 4
    preds = [{"answer": (0.0, 3.0)}, {"answer": (0.0, 5.0)}, {"answer": (0.0, 7.0)}, {"answer": None}]
    got = evaluate("temporal_grounding", preds, truths)["iou"]   # IoU 0.3, 0.5, 0.7, miss
    assert got == {"R1@0.3": 75.0, "R1@0.5": 50.0, "R1@0.7": 25.0, "mIoU": pytest.approx(37.5), "unparsed": 25.0}


# ---- accuracy floors ----------------------------------------------------------------------------


def test_accuracy_floors_are_chance_and_the_most_frequent_answer():
    truths = [{"choices": ["a", "b"], "answer_index": 1}, {"choices": ["a", "b", "c", "d"], "answer_index": 1},
              {"choices": ["a", "b", "c", "d"], "answer_index": 3}, {"choices": list("abcde"), "answer_index": 0}]
    got = floors("video_qa", truths)
    # chance (1/2 + 1/4 + 1/4 + 1/5) / 4 = 0.3; answer B is right on 2 of 4
    assert got == {"chance": {"accuracy": {"accuracy": pytest.approx(30.0)}},
                   "most-frequent": {"accuracy": {"accuracy": 50.0}}}
    assert floors("grounded_qa", [gqa_truth(10.0, [(1.0, 2.0)], 1, 4)])["chance"] == {"accuracy": {"Acc@QA": 25.0}}
