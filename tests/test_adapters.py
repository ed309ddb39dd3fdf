"""The TRL and verl adapters score exactly what score_batch scores."""

from __future__ import annotations

import json

import pytest

from rewards import compute_score, compute_score_videochat_r1, score_one, trl_component_rewards, trl_reward
from schemas import ground_truth, training_row

ROW = {"sample_id": "c-1", "task": "temporal_grounding", "dataset": "charades-sta", "split": "test", "video_key": "93REJ",
       "query": "person drinking from a cup.", "duration": 30.74, "span": {"start": 3.4, "end": 10.5}}
QA = {"sample_id": "q-1", "task": "video_qa", "dataset": "nextqa", "split": "val", "video_key": "4010069381",
      "query": "how do the two man play the instrument", "choices": ["roll", "tap", "strum", "hit", "pat"], "answer_index": 3}


def test_verl_compute_score_on_a_training_row():
    row = training_row(ROW, None)
    gt = row["reward_model"]["ground_truth"]
    out = compute_score(row["data_source"], "<think>a</think><answer>3.40 to 10.50</answer>", gt, row["extra_info"])
    assert out == {"score": pytest.approx(2.0), "format": 1.0, "iou": pytest.approx(1.0), "accuracy": None}
    ref = compute_score_videochat_r1(row["data_source"], "<think>a</think><answer>3.4-10.5</answer>", json.loads(gt))
    assert ref == {"score": 1.0, "format": 1.0, "iou": 0.0, "accuracy": None}


def test_trl_reward_mixed_tasks_keep_order():
    completions = ["<think>a</think><answer>D</answer>", [{"role": "assistant", "content": "<answer>3.4 to 7</answer>"}]]
    columns = {"reward_model": [{"style": "rule", "ground_truth": json.dumps(ground_truth(QA))},
                                {"style": "rule", "ground_truth": json.dumps(ground_truth(ROW))}]}
    totals = trl_reward()(["p1", "p2"], completions, **columns)
    assert totals == [2.0, pytest.approx(score_one("temporal_grounding", "<answer>3.4 to 7</answer>", ground_truth(ROW))["total"])]
    fmt, acc = trl_component_rewards(["format", "accuracy"])
    assert fmt(["p1", "p2"], completions, **columns) == [1.0, 0.0]
    assert acc(["p1", "p2"], completions, **columns) == [1.0, None]  # grounding has no accuracy: not applicable
    assert fmt.__name__ == "vrft_format"
    with pytest.raises(KeyError, match="^\"the dataset needs a 'reward_model' or 'ground_truth' column for vrft rewards\"$"):
        trl_reward()(["p"], ["c"], other=[1])


def test_trl_reads_a_plain_ground_truth_column_and_conversational_completions():
    truth = ground_truth(ROW)
    completions = [
        [{"role": "assistant", "content": "<think>a</think><answer>3.4 to 10.5</answer>"}],  # the last message counts
        [{"role": "assistant", "content": "<answer>1 to 2</answer>"},
         {"role": "assistant", "content": "<think>a</think><answer>3.4 to 10.5</answer>"}],
        [{"role": "assistant"}],  # no content: an empty answer
        [], None,                 # nothing to read
    ]
    for column in ([json.dumps(truth)] * 5, [truth] * 5):  # JSON strings or mappings
        assert trl_reward()(["p"] * 5, completions, ground_truth=column) == [pytest.approx(2.0), pytest.approx(2.0), 0, 0, 0]
    assert trl_reward("videochat-r1").__name__ == "vrft_videochat_r1"
    assert trl_reward().__name__ == "vrft_default"


def test_verl_reference_entry_keeps_the_data_source_and_profile():
    gt = json.dumps(ground_truth(QA))
    out = compute_score_videochat_r1("vrft/nextqa/video_qa", "<think>t</think><answer>Dance.</answer>", gt, {"index": 3})
    assert out == {"score": 2.0, "format": 1.0, "accuracy": 1.0, "iou": None}  # the reference reads "Dance." as D
    assert compute_score("vrft/nextqa/video_qa", "<think>t</think><answer>Dance.</answer>", gt) == {
        "score": 0.0, "format": 0.0, "accuracy": 0.0, "iou": None}  # the default profile does not


def test_score_mixed_scores_each_task_once_and_keeps_order():
    from rewards import score_batch, score_mixed

    qa, tg = ground_truth(QA), ground_truth(ROW)
    tasks = ["video_qa", "temporal_grounding", "video_qa"]
    completions = ["<think>t</think><answer>D</answer>", "<think>a</think><answer>3.40 to 10.50</answer>", "no"]
    rows = score_mixed(tasks, completions, [qa, tg, qa], weights={"temporal_grounding": {"iou": 2.0}})
    assert rows == [{"format": 1.0, "accuracy": 1.0, "total": 2.0}, {"format": 1.0, "iou": 1.0, "total": 3.0},
                    {"format": 0.0, "accuracy": 0.0, "total": 0.0}]
    calls = []

    def counted(task, completions, truths, **kw):
        calls.append((task, len(completions)))
        return score_batch(task, completions, truths, **kw)

    assert score_mixed(tasks, completions, [qa, tg, qa], score=counted)[1]["total"] == 2.0
    assert calls == [("video_qa", 2), ("temporal_grounding", 1)]
    with pytest.raises(ValueError, match="3 tasks, 2 completions"):
        score_mixed(tasks, completions[:2], [qa, tg, qa])
