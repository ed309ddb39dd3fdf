"""The training configuration: typed sections that mirror the YAML file, plus `key=value` overrides.

A config names everything a run needs; the shipped `train/configs/videochat_r1.yaml` holds the paper's
values (docs/reference.md) and `tiny_cpu.yaml` a toy CPU run that learns (the demo's GRPO stage). Unknown keys
and bad values are user mistakes and raise `ConfigError` with the offending key, never a traceback deep in the loop.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml


class ConfigError(ValueError):
    """A mistake in the config file or an override (the CLI turns it into a UserError)."""


@dataclass
class ModelConfig:
    path: str = ""                            # a save_pretrained folder (`vrft tiny-model OUT` makes one)
    dtype: str = "auto"                       # auto (bf16 on GPU, fp32 on CPU) | bfloat16 | float32
    attn_implementation: str = "sdpa"         # sdpa | eager | flash_attention_2
    gradient_checkpointing: bool = False
    freeze_vision: bool = False               # keep the vision tower fixed (it still runs in every forward)
    lora_rank: int = 0                        # 0 = full fine-tune; > 0 wraps the language model with peft LoRA
    lora_alpha: int = 16
    lora_dropout: float = 0.0
    lora_targets: list[str] = field(default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj"])


@dataclass
class DataConfig:
    shards: str = ""                          # a folder of training shards or a glob of Parquet files
    prompts_per_step: int = 1                 # prompts per step per process (the paper: 1 per GPU on 8 GPUs)
    prefetch: int = 4                         # examples decoded ahead by the worker thread
    epochs: int = 1                           # passes over the shards before the run stops by itself
    max_frames: int = 0                       # > 0: each video thinned to this many frames, evenly (0 = all stored)
    max_prompt_tokens: int = 0                # > 0: longer prompts are shown fewer frames; refused if text alone is longer


@dataclass
class RolloutConfig:
    group_size: int = 8                       # G completions per prompt
    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = 0                            # 0 = off
    max_new_tokens: int = 1024


@dataclass
class RewardConfig:
    profile: str = "default"                  # rewards profile: default | videochat-r1
    weights: dict[str, dict[str, float]] = field(default_factory=dict)  # task -> component -> weight


@dataclass
class LossConfig:
    beta: float = 0.04                        # KL weight (k3 estimator against the frozen start); 0 = no reference
    epsilon_low: float = 0.2                  # ratio clip: [1 - epsilon_low, 1 + epsilon_high]
    epsilon_high: float = 0.2
    num_iterations: int = 1                   # policy updates per rollout batch (> 1 uses stored old log-probs)
    aggregation: str = "sequence-mean"        # token-mean | sequence-mean | dr-grpo
    advantage_scale: str = "group"            # group | batch | none
    mask_truncated: bool = False              # completions that hit max_new_tokens do not train


@dataclass
class OptimConfig:
    lr: float = 1e-6
    weight_decay: float = 0.0
    betas: list[float] = field(default_factory=lambda: [0.9, 0.999])
    eps: float = 1e-8
    schedule: str = "linear"                  # constant | linear | cosine (after warmup)
    warmup_steps: int = 0
    max_grad_norm: float = 1.0                # 0 = no clipping
    micro_batch_size: int = 8                 # sequences per forward/backward; gradients accumulate over the batch


@dataclass
class RunConfig:
    out: str = "runs/train"
    steps: int = 0                            # training steps (rollout batches); 0 = until the data runs out
    seed: int = 0
    save_every: int = 0                       # 0 = only at the end
    log_every: int = 1
    sample_every: int = 10                    # sample-completions table; 0 = never
    samples_shown: int = 4
    tensorboard: bool = True
    progress: bool = True


@dataclass
class TrainConfig:
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    rollout: RolloutConfig = field(default_factory=RolloutConfig)
    reward: RewardConfig = field(default_factory=RewardConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    run: RunConfig = field(default_factory=RunConfig)

    def validate(self) -> "TrainConfig":
        checks = [
            (bool(self.model.path), "model.path is required"),
            (bool(self.data.shards), "data.shards is required"),
            (self.data.prompts_per_step >= 1, "data.prompts_per_step must be >= 1"),
            (self.data.max_frames == 0 or self.data.max_frames >= 2, "data.max_frames must be 0 (all) or >= 2"),
            (self.data.max_prompt_tokens >= 0, "data.max_prompt_tokens must be >= 0 (0 = no cap)"),
            (self.rollout.group_size >= 2, "rollout.group_size must be >= 2 (advantages compare within a group)"),
            (self.rollout.temperature > 0, "rollout.temperature must be > 0"),
            (0 < self.rollout.top_p <= 1, "rollout.top_p must be in (0, 1]"),
            (self.rollout.max_new_tokens >= 1, "rollout.max_new_tokens must be >= 1"),
            (self.loss.beta >= 0, "loss.beta must be >= 0"),
            (self.loss.num_iterations >= 1, "loss.num_iterations must be >= 1"),
            (self.loss.epsilon_low >= 0 and self.loss.epsilon_high >= 0, "loss.epsilon_* must be >= 0"),
            (self.loss.aggregation in AGGREGATIONS, f"loss.aggregation must be one of {AGGREGATIONS}"),
            (self.loss.advantage_scale in SCALES, f"loss.advantage_scale must be one of {SCALES}"),
            (self.optim.schedule in SCHEDULES, f"optim.schedule must be one of {SCHEDULES}"),
            (self.optim.micro_batch_size >= 1, "optim.micro_batch_size must be >= 1"),
            (self.optim.lr > 0, "optim.lr must be > 0"),
            (self.model.dtype in DTYPES, f"model.dtype must be one of {DTYPES}"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)
        self._check_reward_weights()
        return self

    def _check_reward_weights(self) -> None:
        """reward.weights names declared tasks and their components (schemas), so a typo fails now."""
        import schemas

        for task, weights in self.reward.weights.items():
            try:
                components = schemas.get_task(task).components
            except KeyError as err:
                raise ConfigError(f"reward.weights: {err.args[0]}") from None
            unknown = sorted(set(weights or {}) - set(components))
            if unknown:
                raise ConfigError(f"reward.weights.{task}: unknown components {unknown}; it has {list(components)}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


AGGREGATIONS = ("token-mean", "sequence-mean", "dr-grpo")
SCALES = ("group", "batch", "none")
SCHEDULES = ("constant", "linear", "cosine")
DTYPES = ("auto", "bfloat16", "float32", "float16")


def _build(cls: type, values: Mapping[str, Any], where: str) -> Any:
    if not isinstance(values, Mapping):
        raise ConfigError(f"{where or 'config'}: expected a mapping, got {type(values).__name__}")
    known = {f.name: f for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in values.items():
        name = f"{where}.{key}" if where else key
        if key not in known:
            raise ConfigError(f"unknown key {name!r}; known: {sorted(known)}")
        default = known[key].default_factory() if known[key].default_factory is not dataclasses.MISSING else known[key].default
        if dataclasses.is_dataclass(default):
            kwargs[key] = _build(type(default), value, name)
        else:
            kwargs[key] = _coerce(value, default, name)
    return cls(**kwargs)


def _coerce(value: Any, default: Any, name: str) -> Any:
    """Check a leaf against its default's type (ints are accepted where floats are expected)."""
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, float):
        if isinstance(value, str):  # YAML 1.1 reads "1e-6" (no dot) as a string
            try:
                value = float(value)
            except ValueError:
                pass
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif isinstance(default, str):
        ok = isinstance(value, str)
    elif isinstance(default, list):
        ok = isinstance(value, list)
    elif isinstance(default, dict):
        ok = isinstance(value, dict)
    else:
        ok = True
    if not ok:
        raise ConfigError(f"{name}: expected {type(default).__name__}, got {value!r}")
    return value


def apply_override(raw: dict[str, Any], item: str) -> None:
    """Apply one `a.b.c=value` override to the raw mapping; the value is parsed as YAML."""
    if "=" not in item:
        raise ConfigError(f"override {item!r} is not key=value")
    key, text = item.split("=", 1)
    parts = key.strip().split(".")
    node = raw
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ConfigError(f"override {item!r}: {part!r} is not a section")
    node[parts[-1]] = yaml.safe_load(text)


def load_config(path: str | Path | None = None, overrides: list[str] = ()) -> TrainConfig:
    """Read a YAML config, apply `key=value` overrides and validate. Relative paths are the caller's (cwd)."""
    raw: dict[str, Any] = {}
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"config file not found: {path}")
        raw = yaml.safe_load(path.read_text()) or {}
    for item in overrides:
        apply_override(raw, item)
    config = _build(TrainConfig, raw, "")
    return config.validate()
