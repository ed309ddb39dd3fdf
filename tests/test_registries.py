"""Registries that meet: the start-up check names every declared task part that a reward profile, the
validation checks or the report plots do not cover, and every entry point runs it before doing work."""

from __future__ import annotations

import subprocess
import sys

import pyarrow as pa
import pytest

import pipelines.report.plots  # noqa: F401  (registers the "report plots" requirement)
import pipelines.validate.labels  # noqa: F401  (registers the "validation checks" requirement)
import rewards
import schemas
from pipelines.validate import validate_dataset
from rewards.component import Component
from schemas.violation import Violation
from tests.conftest import ROOT
from train.scoring import default_score_fn
from vrft.cli import main as vrft_main


def _count_label(exempt=None) -> schemas.LabelType:
    return schemas.LabelType(
        name="count", columns={"count": pa.int64()},
        check=lambda row: [] if isinstance(row.get("count"), int) else [Violation("count_missing", "count", "")],
        answer_format="a whole number", answer_example="3", exempt=exempt or {},
    )


COUNT_COMPONENT = Component("count", lambda c, t, p: int(c) if c.strip().isdigit() else None, str,
                            lambda t, p: t["count"], lambda p, t, part: float(p == t["count"]),
                            lambda ps, ts, p, g: {"exact": 0.0})
COUNTING = schemas.Task(name="counting", doc="", intro="How many: {query}?",
                        parts=(schemas.AnswerPart(tag="answer", label="count", component="exact"),),
                        weights={"format": 1.0, "exact": 1.0})


@pytest.fixture
def declare():
    """declare(label_type, with_component) registers a counting task on it; everything is removed after."""
    def make(label: schemas.LabelType, with_component: bool) -> None:
        schemas.register_label_type(label)
        if with_component:
            rewards.register_component(COUNT_COMPONENT)
        schemas.register_task(COUNTING)

    yield make
    schemas.unregister_task("counting")
    rewards.unregister_component("count")
    schemas.unregister_label_type("count")


def test_the_built_in_registries_meet():
    assert set(schemas.coverage.requirement_names()) >= {"reward component", "validation checks", "report plots"}
    assert schemas.coverage.coverage_problems() == []
    schemas.check_coverage()


def test_a_label_type_without_a_reward_component_is_named(declare):
    declare(_count_label(), with_component=False)
    with pytest.raises(schemas.CoverageError) as err:
        schemas.check_coverage()
    problems = schemas.coverage.coverage_problems()
    where = "task 'counting' <answer> (label type 'count')"
    assert f"{where}: no reward component for 'exact' in profile(s) default" in problems
    assert f"{where}: no validation checks (pipelines.validate.labels)" in problems
    assert f"{where}: no report plot (pipelines.report.plots)" in problems
    assert len(problems) == 3 and all(p in str(err.value) for p in problems)


def test_a_label_type_without_validation_checks_is_named(declare):
    declare(_count_label(), with_component=True)
    assert schemas.coverage.coverage_problems() == [
        "task 'counting' <answer> (label type 'count'): no report plot (pipelines.report.plots)",
        "task 'counting' <answer> (label type 'count'): no validation checks (pipelines.validate.labels)",
    ]


def test_exemptions_are_declared_with_the_label_type(declare):
    declare(_count_label({"validation checks": "the record check covers it", "report plots": "nothing to draw"}),
            with_component=True)
    schemas.check_coverage()  # the reference profile does not claim counting: nothing is asked of it
    assert not rewards.get_profile("videochat-r1").claims(COUNTING)


def test_a_reward_component_cannot_be_exempted(declare):
    declare(_count_label({"reward component": "no", "validation checks": "-", "report plots": "-"}), with_component=False)
    assert schemas.coverage.coverage_problems() == [
        "task 'counting' <answer> (label type 'count'): reward component cannot be exempted"
    ]


def test_a_profile_that_claims_a_task_must_score_each_part():
    tracking = schemas.get_task("tracking")
    reference = rewards.get_profile("videochat-r1")
    assert reference.claims(tracking) and reference.can_score(tracking, tracking.parts[0])
    other = schemas.AnswerPart(tag="answer", label="boxtrack", component="closeness")
    assert not reference.can_score(tracking, other)  # its tracking rule gives format and iou only


def test_entry_points_refuse_to_start(declare, tmp_path):
    declare(_count_label(), with_component=False)
    with pytest.raises(schemas.CoverageError, match="task 'counting'"):
        validate_dataset(str(tmp_path / "not-even-there"))        # validation start, before reading anything
    with pytest.raises(schemas.CoverageError, match="task 'counting'"):
        default_score_fn()                                         # trainer start, before the model loads
    with pytest.raises(schemas.CoverageError, match="task 'counting'"):
        vrft_main(["rewards", "score", "--task", "video_qa", "--input", str(tmp_path / "none.jsonl")])


@pytest.mark.parametrize("command", [
    ["rewards", "score", "--task", "video_qa", "--input", "-"],
    ["eval", "--baseline", "whole-video", "--data", "nowhere", "--out", "o"],
])
def test_an_unknown_profile_is_refused_naming_the_known_ones(command):
    res = subprocess.run([sys.executable, "-m", "vrft", *command, "--profile", "videochat_r1"], cwd=ROOT,
                         capture_output=True, text=True, input="")
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "unknown reward profile 'videochat_r1'; known: ['default', 'videochat-r1']" in res.stderr
