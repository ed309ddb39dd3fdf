"""The README's table of floors on the real annotations is computed here, not typed: the test builds
the table from the annotation files with the metrics and checks that the README holds it as written
(when a number changes, the assertion prints the table to paste)."""

from __future__ import annotations

import csv
import json

from rewards import evaluate, floors
from tests.conftest import ROOT


def _cells(values: dict[str, float], names: list[str], digits: int = 2) -> str:
    return " · ".join(f"{n} {values[n]:.{digits}f}" for n in names)


def charades(real):
    durations = json.loads((real / "charades_sta" / "charades.json").read_text())
    out = []
    for line in (real / "charades_sta" / "charades_sta_test.txt").read_text().splitlines():
        if line.strip():
            vid, s, e = line.split("##", 1)[0].split()
            out.append({"span": {"start": float(s), "end": float(e)}, "duration": durations[vid]["duration"]})
    return out


def activitynet(real):
    data = json.loads((real / "activitynet_captions" / "val_2.json").read_text())
    return [{"span": {"start": s, "end": e}, "duration": v["duration"]} for v in data.values() for s, e in v["timestamps"]]


def nextgqa(real):
    """NExT-GQA test as the official script reads it (gsub_test.json), with each question's options and
    answer from test.csv."""
    gsub = json.loads((real / "nextgqa" / "gsub_test.json").read_text())
    with open(real / "nextgqa" / "test.csv", newline="") as f:
        rows = {(r["video_id"], r["qid"]): r for r in csv.DictReader(f)}
    out = []
    for vid, v in gsub.items():
        for qid, locs in v["location"].items():
            r = rows[(vid, qid)]
            choices = [r[f"a{i}"] for i in range(5)]
            out.append({"spans": [{"start": s, "end": e} for s, e in locs], "duration": v["duration"], "choices": choices,
                        "answer_index": choices.index(r["answer"])})
    return out


def got10k_val(real):
    tracks = json.loads((real / "videochat_r1" / "got_val.json").read_text())
    return [{"boxes": [{"t": i / 10, "x0": b[0], "y0": b[1], "x1": b[2], "y1": b[3]} for i, b in enumerate(t["gt"])]}
            for t in tracks]


def floors_table(real) -> str:
    span_names = ["mIoU", "R1@0.3", "R1@0.5", "R1@0.7"]
    ch, an = charades(real), activitynet(real)
    ch_floor = floors("temporal_grounding", ch)["whole-video"]["iou"]
    an_floor = floors("temporal_grounding", an)["whole-video"]["iou"]
    gqa = nextgqa(real)
    whole = [{"answer": t["answer_index"], "glue": [(0.0, t["duration"])]} for t in gqa]
    g = evaluate("grounded_qa", whole, gqa)
    g_prior = floors("grounded_qa", gqa)
    got = got10k_val(real)
    copy = [{"answer": [tuple(t["boxes"][0][k] for k in ("x0", "y0", "x1", "y1"))] * len(t["boxes"])} for t in got]
    toolkit = evaluate("tracking", copy, got)["iou"]
    reference = evaluate("tracking", copy, got, include_given=True)["iou"]
    track_names = ["AO", "SR@0.5", "SR@0.75"]
    rows = [
        ("Charades-STA test", f"{len(ch):,} queries", "whole video", _cells(ch_floor, span_names)),
        ("ActivityNet Captions val_2", f"{len(an):,} queries", "whole video", _cells(an_floor, span_names)),
        ("NExT-GQA test", f"{len(gqa):,} questions", "whole-video glue, true answer",
         _cells({**g["accuracy"], **g["iou"]}, ["Acc@GQA", "mIoP", "IoP@0.3", "IoP@0.5", "mIoU", "IoU@0.3", "IoU@0.5"], 1)
         + f" · VideoChat-R1 mIoU {g['iou']['VideoChat-R1 mIoU']:.2f}"),
        ("NExT-GQA test", f"{len(gqa):,} questions", "chance · most frequent answer",
         f"Acc@QA {g_prior['chance']['accuracy']['Acc@QA']:.1f} · {g_prior['most-frequent']['accuracy']['Acc@QA']:.1f}"),
        ("GOT-10k val (VideoChat-R1's file)", f"{len(got)} tracks of 8 boxes", "copy the given first box",
         _cells(toolkit, track_names, 1) + " (given box excluded, as the toolkit; default profile) · "
         + _cells(reference, track_names, 1) + " (all 8 scored, as the reference; videochat-r1 profile)"),
    ]
    lines = ["| benchmark | items | floor | metrics (%) |", "|---|---|---|---|"]
    lines += [f"| {' | '.join(r)} |" for r in rows]
    return "\n".join(lines)


def test_the_readme_floors_table_is_what_the_metrics_give(real_data):
    table = floors_table(real_data)
    assert table in (ROOT / "README.md").read_text(), "README.md should hold this table:\n" + table
