"""Every shipped config loads; the paper config holds the paper's values; mistakes name their key."""

from __future__ import annotations

from pathlib import Path

import pytest

from train.config import ConfigError, load_config
from train.trainer import lr_lambda

CONFIGS = Path(__file__).resolve().parents[2] / "train" / "configs"
TRAIN_CONFIGS = sorted(p for p in CONFIGS.glob("*.yaml") if not p.name.startswith("accelerate_"))
ACCELERATE_CONFIGS = sorted(CONFIGS.glob("accelerate_*.yaml"))


@pytest.mark.parametrize("path", TRAIN_CONFIGS, ids=lambda p: p.name)
def test_shipped_training_configs_load(path):
    cfg = load_config(path)
    assert cfg.model.path and cfg.data.shards


@pytest.mark.parametrize("path", ACCELERATE_CONFIGS, ids=lambda p: p.name)
def test_shipped_accelerate_configs_load(path):
    from accelerate.commands.config.config_args import load_config_from_file

    cfg = load_config_from_file(str(path))
    assert cfg.num_processes == 8 and cfg.mixed_precision == "bf16"


def test_ddp_and_fsdp_are_both_shipped():
    assert {p.name for p in ACCELERATE_CONFIGS} >= {"accelerate_ddp.yaml", "accelerate_fsdp.yaml"}


def test_paper_config_has_the_paper_values():
    cfg = load_config(CONFIGS / "videochat_r1.yaml")
    assert (cfg.rollout.group_size, cfg.rollout.temperature, cfg.rollout.max_new_tokens) == (8, 1.0, 1024)
    assert (cfg.optim.lr, cfg.loss.beta, cfg.loss.num_iterations) == (1e-6, 0.04, 1)
    assert (cfg.loss.aggregation, cfg.loss.advantage_scale) == ("sequence-mean", "group")
    assert cfg.reward.profile == "videochat-r1" and cfg.model.lora_rank == 0 and cfg.data.prompts_per_step == 1


def test_overrides_are_typed_and_nested():
    cfg = load_config(CONFIGS / "tiny_cpu.yaml", ["optim.lr=1e-4", "loss.aggregation=token-mean",
                                                  "reward.weights={temporal_grounding: {iou: 2}}", "run.steps=7"])
    assert cfg.optim.lr == 1e-4 and isinstance(cfg.optim.lr, float)
    assert cfg.loss.aggregation == "token-mean" and cfg.run.steps == 7
    assert cfg.reward.weights == {"temporal_grounding": {"iou": 2}}


@pytest.mark.parametrize("override, message", [
    ("loss.betta=0.1", "unknown key 'loss.betta'"),
    ("loss.beta=high", "loss.beta: expected float"),
    ("loss.aggregation=mean", "loss.aggregation must be one of"),
    ("rollout.group_size=1", "group_size must be >= 2"),
    ("optim", "is not key=value"),
    ("reward.weights={counting: {format: 1}}", "reward.weights: unknown task 'counting'"),
    ("reward.weights={temporal_grounding: {acc: 1}}", r"reward.weights.temporal_grounding: unknown components \['acc'\]"),
    ("reward.profile=videochat_r1", r"reward.profile must be one of \['default', 'videochat-r1'\], got 'videochat_r1'"),
    ("model.path=", "model.path is required"),
    ("rollout.top_p=1.5", r"rollout.top_p must be in \(0, 1\]"),
    ("data.max_frames=1", r"data.max_frames must be 0 \(all\) or >= 2"),
    ("model.path=hub:bad id", r"model.path: 'hub:bad id' is not a hub id \(hub:ORG/NAME\)"),
    ("reward.weights={temporal_grounding: {iou: -1}}", r"reward.weights.temporal_grounding.iou must be non-negative, got -1.0"),
])
def test_mistakes_name_the_key(override, message):
    with pytest.raises(ConfigError, match=message):
        load_config(CONFIGS / "tiny_cpu.yaml", [override])


def test_missing_config_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.yaml")


def test_schedules():
    lin, cos, const = (lr_lambda(s, 2, 10) for s in ("linear", "cosine", "constant"))
    assert [round(lin(n), 4) for n in (0, 1, 2, 6, 10)] == [0.3333, 0.6667, 1.0, 0.5, 0.0]
    assert [round(cos(n), 4) for n in (2, 6, 10)] == [1.0, 0.5, 0.0]
    assert const(9) == 1.0


def test_linear_and_cosine_differ_between_their_ends():
    """Warmup 0 over 8 steps: at n = 2 and 6 (25 % and 75 % of the decay) linear gives 1 - 0.25 = 0.75 and
    1 - 0.75 = 0.25; cosine gives (1 + cos(pi/4)) / 2 = (1 + 0.70711) / 2 = 0.85355 and (1 - 0.70711) / 2 = 0.14645."""
    lin, cos = lr_lambda("linear", 0, 8), lr_lambda("cosine", 0, 8)
    assert [round(lin(n), 5) for n in (2, 6)] == [0.75, 0.25]
    assert [round(cos(n), 5) for n in (2, 6)] == [0.85355, 0.14645]


def test_schedule_ends_and_warmup_past_the_run():
    # the decay reaches 0 after the last step and stays there, even when only one step follows the warmup
    assert [lr_lambda("linear", 3, 4)(n) for n in (3, 4, 6)] == [1.0, 0.0, 0.0]
    assert [lr_lambda("cosine", 0, 4)(n) for n in (4, 6)] == [0.0, 0.0]
    # a warmup as long as the run leaves the base lr after it (nothing left to decay over)
    assert [lr_lambda("linear", 3, 3)(n) for n in (2, 3, 5)] == [0.75, 1.0, 1.0]  # warmup: 3/4, then 1
    assert [lr_lambda("cosine", 0, 0)(n) for n in (0, 1, 5)] == [1.0, 1.0, 1.0]


def test_what_the_checks_let_through():
    from train.config import model_source

    base = CONFIGS / "tiny_cpu.yaml"
    assert [load_config(base, [f"data.max_frames={n}"]).data.max_frames for n in (0, 2)] == [0, 2]
    assert load_config(base, ["model.lora_rank=0", "model.lora_targets=[]"]).model.lora_targets == []
    for rank in (1, 4):
        with pytest.raises(ConfigError, match="model.lora_targets must name at least one module when lora_rank > 0"):
            load_config(base, [f"model.lora_rank={rank}", "model.lora_targets=[]"])
    with pytest.raises(ConfigError) as err:
        load_config(base, ['run.out=""'])  # an empty string; `run.out=` is None, refused by type
    assert str(err.value) == "run.out is required"
    assert load_config(base, ["model.path=hub:org/name"]).model.path == "hub:org/name"
    assert model_source("hub:org/name") == "org/name" and model_source("/models/hub:x") == "/models/hub:x"
    assert load_config(base, ["reward.weights={temporal_grounding: {iou: 0}}"]).reward.weights["temporal_grounding"]["iou"] == 0


def test_a_config_written_and_read_back_is_the_same_config(tmp_path):
    """What a run records (train/preflight.py writes `to_dict()` as JSON next to the checkpoints) loads again
    to the config that wrote it, overrides included."""
    import json

    cfg = load_config(CONFIGS / "tiny_cpu.yaml", ["optim.lr=3e-5", "optim.betas=[0.8, 0.95]", "run.out=elsewhere",
                                                  "reward.weights={temporal_grounding: {iou: 2}}", "model.lora_rank=2"])
    written = tmp_path / "config.json"
    written.write_text(json.dumps(cfg.to_dict()))
    again = load_config(written)
    assert again == cfg
    assert (again.optim.lr, again.optim.betas, again.run.out, again.model.lora_rank) == (3e-5, (0.8, 0.95), "elsewhere", 2)
