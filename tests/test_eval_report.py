"""The typed evaluation report and its one table: values, floors and units computed by hand."""

from __future__ import annotations

import json

import pytest

from train.eval_items import EvalItem
from train.eval_report import Metric, markdown, report_table, score_predictions, write_metrics

ITEMS = [
    EvalItem("g1", "temporal_grounding", {"task": "temporal_grounding", "span": {"start": 2.0, "end": 4.0}, "duration": 10.0},
             "charades_sta"),
    EvalItem("g2", "temporal_grounding", {"task": "temporal_grounding", "span": {"start": 0.0, "end": 5.0}, "duration": 10.0},
             "charades_sta"),
    EvalItem("q1", "video_qa", {"task": "video_qa", "choices": ["x", "y", "z"], "answer_index": 1}, "toy"),
]
COMPLETIONS = {"g1": "<think>x</think><answer>2.00 to 4.00</answer>", "g2": "no idea",
               "q1": "<think>t</think><answer>B</answer>"}


@pytest.fixture(scope="module")
def report():
    return score_predictions(ITEMS, COMPLETIONS, "default")


def test_values_floors_and_units(report):
    grounding, qa = report.task("temporal_grounding"), report.task("video_qa")
    assert (grounding.n, qa.n) == (2, 1)
    assert (grounding.benchmark, grounding.datasets) == ("Charades-STA / ActivityNet", ("charades_sta",))
    # g1 exact (IoU 1), g2 unreadable (0); whole-video floor: 2/10 = 0.2 and 5/10 = 0.5
    assert grounding.metric("iou", "mIoU") == Metric("iou", "mIoU", 50.0, "%", (("whole-video", pytest.approx(35.0)),))
    assert grounding.metric("iou", "R1@0.5").floors == (("whole-video", 50.0),)
    assert grounding.metric("iou", "R1@0.7").floors == (("whole-video", 0.0),)
    assert grounding.metric("iou", "unparsed").value == 50.0
    # one question of three options, answer B: chance 1/3, the most frequent answer right on it
    assert qa.benchmark == "" and qa.metrics == (
        Metric("accuracy", "accuracy", 100.0, "%", (("chance", pytest.approx(100 / 3)), ("most-frequent", 100.0))),
        Metric("accuracy", "unparsed", 0.0, "%", ()),
    )


def test_one_table_for_every_rendering(report):
    grounding_only = score_predictions(ITEMS[:2], {"g1": COMPLETIONS["g1"], "g2": "<answer>0 to 5</answer>"}, "default")
    columns, rows = report_table({"before": grounding_only, "after": report})
    assert columns == ["task", "benchmark", "n", "component", "metric (unit)", "before", "after", "floors"]
    head = ["temporal_grounding", "Charades-STA / ActivityNet", "2", "iou"]
    assert rows[0] == [*head, "mIoU (%)", "100.00", "50.00", "35.00 whole-video"]   # the headline first
    assert rows[1] == [*head, "R1@0.3 (%)", "100.00", "50.00", "50.00 whole-video"]
    assert rows[4] == [*head, "unparsed (%)", "0.00", "50.00", ""]   # no floor shown for unparsed answers
    assert rows[5] == ["video_qa", "-", "1", "accuracy", "accuracy (%)", "", "100.00", "33.33 chance; 100.00 most-frequent"]
    assert len(rows) == 7
    md = markdown(report, "t").splitlines()
    assert md[4:6] == ["| task | benchmark | n | component | metric (unit) | value | floors |", "|---|---|---|---|---|---|---|"]
    assert md[6] == "| temporal_grounding | Charades-STA / ActivityNet | 2 | iou | mIoU (%) | 50.00 | 35.00 whole-video |"


def test_metrics_json_keeps_its_shape(report, tmp_path):
    path = write_metrics(report, tmp_path, "t", {"model": "m", "fingerprint": "abc", "files": {}})
    data = json.loads(path.read_text())
    g = data["tasks"]["temporal_grounding"]
    assert (data["title"], data["profile"], data["writer"], g["n"]) == ("t", "default", {"model": "m", "fingerprint": "abc"}, 2)
    assert g["metrics"]["iou"]["mIoU"] == 50.0 and g["floors"]["whole-video"]["iou"]["mIoU"] == pytest.approx(35.0)
    assert g["benchmark"] == "Charades-STA / ActivityNet" and g["units"]["iou"]["mIoU"] == "%"
    assert data["tasks"]["video_qa"]["floors"]["chance"] == {"accuracy": {"accuracy": pytest.approx(100 / 3)}}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.json", "metrics.md"]   # no temporaries left
