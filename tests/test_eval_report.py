"""The typed evaluation report and its one table: values, floors and units computed by hand."""

from __future__ import annotations

import json

import pytest

from train.eval_items import EvalItem
from train.eval_report import Metric, markdown, report_table, score_predictions, write_metrics

ITEMS = [
    EvalItem("g1", "temporal_grounding", {"task": "temporal_grounding", "span": {"start": 2.0, "end": 4.0}, "duration": 10.0}),
    EvalItem("g2", "temporal_grounding", {"task": "temporal_grounding", "span": {"start": 0.0, "end": 5.0}, "duration": 10.0}),
    EvalItem("q1", "video_qa", {"task": "video_qa", "choices": ["x", "y", "z"], "answer_index": 1}),
]
COMPLETIONS = {"g1": "<think>x</think><answer>2.00 to 4.00</answer>", "g2": "no idea",
               "q1": "<think>t</think><answer>B</answer>"}


@pytest.fixture(scope="module")
def report():
    return score_predictions(ITEMS, COMPLETIONS, "default")


def test_values_floors_and_units(report):
    grounding, qa = report.task("temporal_grounding"), report.task("video_qa")
    assert (grounding.n, qa.n) == (2, 1)
    # g1 exact (IoU 1), g2 unreadable (0); whole-video floor: 2/10 = 0.2 and 5/10 = 0.5
    assert grounding.metric("iou", "miou") == Metric("iou", "miou", 50.0, "%", pytest.approx(35.0), "whole-video")
    assert grounding.metric("iou", "r@0.5").floor == 50.0 and grounding.metric("iou", "r@0.7").floor == 0.0
    assert grounding.metric("iou", "unparsed").value == 50.0
    assert qa.metrics == (Metric("accuracy", "accuracy", 100.0, "%", None, ""),
                          Metric("accuracy", "unparsed", 0.0, "%", None, ""))


def test_one_table_for_every_rendering(report):
    grounding_only = score_predictions(ITEMS[:2], {"g1": COMPLETIONS["g1"], "g2": "<answer>0 to 5</answer>"}, "default")
    columns, rows = report_table({"before": grounding_only, "after": report})
    assert columns == ["task", "n", "component", "metric", "before", "after", "floor", "unit"]
    assert rows[0] == ["temporal_grounding", "2", "iou", "miou", "100.000", "50.000", "35.000 (whole-video)", "%"]
    assert rows[4] == ["temporal_grounding", "2", "iou", "unparsed", "0.000", "50.000", "", "%"]   # no floor shown
    assert rows[5] == ["video_qa", "1", "accuracy", "accuracy", "", "100.000", "", "%"]           # not in "before"
    assert len(rows) == 7
    md = markdown(report, "t").splitlines()
    assert md[4:6] == ["| task | n | component | metric | value | floor | unit |", "|---|---|---|---|---|---|---|"]
    assert md[6] == "| temporal_grounding | 2 | iou | miou | 50.000 | 35.000 (whole-video) | % |"


def test_metrics_json_keeps_its_shape(report, tmp_path):
    path = write_metrics(report, tmp_path, "t")
    data = json.loads(path.read_text())
    g = data["tasks"]["temporal_grounding"]
    assert (data["title"], data["profile"], g["n"]) == ("t", "default", 2)
    assert g["metrics"]["iou"]["miou"] == 50.0 and g["floor"]["iou"]["miou"] == pytest.approx(35.0)
    assert g["floor_name"] == {"iou": "whole-video"} and g["units"]["iou"]["miou"] == "%"
    assert data["tasks"]["video_qa"]["floor"] == {} and (tmp_path / "metrics.md").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.json", "metrics.md"]   # no temporaries left
