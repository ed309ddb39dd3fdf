"""Declaring a new task (counting, with a label type of its own) in one place gives its schema,
checks, prompt, parser, reward and metrics, with no change anywhere else (the label type says which
stages it does without: validation checks and report plots)."""

from __future__ import annotations

import pyarrow as pa
import pytest

import rewards
import schemas
from rewards.component import Component, mean
from rewards.numbers import read_times
from schemas.violation import Violation


def _check_count(row):
    n = row.get("count")
    if not isinstance(n, int) or isinstance(n, bool):
        return [Violation("count_missing", "count", f"got {n!r}")]
    return [Violation("count_negative", "count", f"{n} < 0")] if n < 0 else []


def _parse(content, truth, part):
    nums = read_times(content, 32)
    return int(nums[0]) if nums and len(nums) == 1 and nums[0] == int(nums[0]) else None


def _score(pred, truth, part):
    return max(0.0, 1.0 - abs(pred - truth["count"]) / max(1, truth["count"]))


def _metrics(preds, truths, part, include_given):
    exact = [float(p == t["count"]) for p, t in zip(preds, truths)]
    return {"exact": 100.0 * mean(exact)}


@pytest.fixture
def counting():
    label = schemas.register_label_type(
        schemas.LabelType(
            name="count",
            columns={"count": pa.int64()},
            check=_check_count,
            answer_format="a whole number",
            answer_example="3",
            exempt={"validation checks": "the record check covers a single integer",
                    "report plots": "no figure for counts yet"},
        )
    )
    rewards.register_component(Component("count", _parse, str, lambda truth, part: truth["count"], _score, _metrics))
    task = schemas.register_task(
        schemas.Task(
            name="counting",
            doc="How many times does something happen?",
            intro='How many times does this happen: "{query}"?',
            parts=(schemas.AnswerPart(tag="answer", label="count", component="closeness"),),
            weights={"format": 0.5, "closeness": 1.0},
        )
    )
    yield task
    schemas.unregister_task("counting")
    rewards.unregister_component("count")
    schemas.unregister_label_type(label.name)


ROW = {"task": "counting", "sample_id": "s1", "dataset": "toy", "video_key": "v1", "query": "a ball bounces", "count": 4}


def test_new_task_gets_everything(counting):
    schemas.check_coverage()  # a reward component, and the stages it does without said so with the label type
    assert schemas.samples_schema().field("count").type == pa.int64()
    assert schemas.check_record(ROW) == []
    assert [v.code for v in schemas.check_record({**ROW, "count": -2, "query": " "})] == ["query_missing", "count_negative"]

    content = schemas.render_prompt(counting, ROW, think=True)[0]["content"]
    assert content.startswith(schemas.VIDEO_PLACEHOLDER)
    assert '"a ball bounces"' in content and "a whole number" in content and "<answer>3</answer>" in content

    truth = schemas.ground_truth(ROW)
    assert truth == {"task": "counting", "think": True, "count": 4}
    got = rewards.score_one("counting", "<think>bounces at 1, 2, 3, 4</think><answer>3</answer>", truth)
    assert got == {"format": 1.0, "closeness": 0.75, "total": 1.25}
    assert rewards.score_one("counting", "<think>x</think><answer>3 or 4</answer>", truth)["closeness"] == 0.0

    preds = [rewards.get_profile("default").read(counting, c, truth).predictions
             for c in ["<answer>4</answer>", "<answer>5</answer>", "no"]]
    assert rewards.evaluate("counting", preds, [truth] * 3) == {
        "closeness": {"exact": pytest.approx(100 / 3), "unparsed": pytest.approx(100 / 3)}
    }


def test_reference_profile_refuses_tasks_it_never_had(counting):
    with pytest.raises(KeyError, match="no rule for task 'counting'"):
        rewards.score_one("counting", "<answer>3</answer>", {"count": 3}, "videochat-r1")


def test_registries_refuse_duplicates_and_unknowns(counting):
    with pytest.raises(ValueError, match="already registered"):
        schemas.register_task(counting)
    with pytest.raises(KeyError, match="unknown task"):
        schemas.get_task("countng")
    with pytest.raises(KeyError, match="unknown label type"):
        schemas.label_type("cnt")
    with pytest.raises(ValueError, match="weights"):
        schemas.register_task(
            schemas.Task(name="bad", doc="", intro="", parts=counting.parts, weights={"format": 1.0})
        )


def test_parse_and_score_get_the_answer_part_they_serve(counting):
    """A component may depend on its part of the contract (tracking skips the boxes the prompt gave)."""
    seen = []

    def parse(content, truth, part):
        seen.append(("parse", part))
        return _parse(content, truth, part)

    def score(pred, truth, part):
        seen.append(("score", part))
        return _score(pred, truth, part)

    rewards.unregister_component("count")
    rewards.register_component(Component("count", parse, str, lambda truth, part: truth["count"], score, _metrics))
    assert rewards.score_one("counting", "<think>x</think><answer>3</answer>", {"count": 4})["closeness"] == 0.75
    assert seen == [("parse", counting.parts[0]), ("score", counting.parts[0])]
