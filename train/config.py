"""The training configuration: typed sections that mirror the YAML file, plus `key=value` overrides.

A config names everything a run needs; the shipped `train/configs/videochat_r1.yaml` holds the paper's
values (docs/reference.md) and `tiny_cpu.yaml` a toy CPU run that learns (the demo's GRPO stage). Unknown keys
and bad values are user mistakes and raise `ConfigError` with the offending key, never a traceback deep in the loop.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import schemas
from rewards import profile_names
from schemas.config import ConfigError, load, setting

AGGREGATIONS = ("token-mean", "sequence-mean", "dr-grpo")
SCALES = ("group", "batch", "none")
SCHEDULES = ("constant", "linear", "cosine")
DTYPES = ("auto", "bfloat16", "float32", "float16")
ATTENTION = ("sdpa", "eager", "flash_attention_2", "flash_attention_3", "flex_attention")  # transformers' names
HUB = "hub:"  # model.path: hub:ORG/NAME asks for the Hugging Face hub; anything else is a local folder
_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*(/[A-Za-z0-9][\w.-]*)?")


def model_source(path: str) -> str:
    """What `from_pretrained` gets for `model.path`: the hub id after `hub:`, else the local folder."""
    return path[len(HUB):] if path.startswith(HUB) else path


@dataclass
class ModelConfig:
    path: str = setting("", required=True)      # a save_pretrained folder (`vrft tiny-model OUT`), or hub:ORG/NAME
    dtype: str = setting("auto", choices=DTYPES)  # auto (bf16 on GPU, fp32 on CPU) | bfloat16 | float32
    attn_implementation: str = setting("sdpa", choices=ATTENTION)
    gradient_checkpointing: bool = False
    freeze_vision: bool = False               # keep the vision tower fixed (it still runs in every forward)
    lora_rank: int = setting(0, min=0)          # 0 = full fine-tune; > 0 wraps the language model with peft LoRA
    lora_alpha: int = setting(16, above=0)
    lora_dropout: float = setting(0.0, min=0, below=1)
    lora_targets: list[str] = field(default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj"])

    def __post_init__(self) -> None:
        if self.lora_rank > 0 and not self.lora_targets:
            raise ConfigError("must name at least one module when lora_rank > 0", "lora_targets")
        if self.path.startswith(HUB) and not _HUB_ID.fullmatch(model_source(self.path)):
            raise ConfigError(f"{self.path!r} is not a hub id (hub:ORG/NAME)", "path")


@dataclass
class DataConfig:
    shards: str = setting("", required=True)    # a folder of training shards or a glob of Parquet files
    prompts_per_step: int = setting(1, min=1)   # prompts per step per process (the paper: 1 per GPU on 8 GPUs)
    prefetch: int = setting(4, min=1)           # examples decoded ahead by the worker thread
    epochs: int = setting(1, min=1)             # passes over the shards before the run stops by itself
    max_frames: int = setting(0, min=0)         # > 0: each video thinned to this many frames, evenly (0 = all stored)
    max_prompt_tokens: int = setting(0, min=0)  # > 0: longer prompts are shown fewer frames; refused if text alone is longer

    def __post_init__(self) -> None:
        if self.max_frames == 1:
            raise ConfigError("must be 0 (all) or >= 2 (a video needs two frames for its time steps)", "max_frames")


@dataclass
class RolloutConfig:
    group_size: int = setting(8, min=2, why="advantages compare within a group")  # G completions per prompt
    temperature: float = setting(1.0, above=0)
    top_p: float = setting(1.0, above=0, max=1)
    top_k: int = setting(0, min=0)              # 0 = off
    max_new_tokens: int = setting(1024, min=1)
    skip_zero_spread: bool = False              # dynamic sampling: drop groups whose rewards are all equal ...
    max_extra_draws: int = setting(4, min=0)    # ... and draw up to this many more blocks of prompts per step


@dataclass
class RewardConfig:
    profile: str = setting("default", choices=profile_names)  # rewards profile: default | videochat-r1
    weights: dict[str, dict[str, float]] = field(default_factory=dict)  # task -> component -> weight

    def __post_init__(self) -> None:
        """`weights` names declared tasks and their components (schemas), so a typo fails at load."""
        for task, weights in self.weights.items():
            try:
                components = schemas.get_task(task).components
            except KeyError as err:
                raise ConfigError(err.args[0], "weights") from None
            unknown = sorted(set(weights or {}) - set(components))
            if unknown:
                raise ConfigError(f"unknown components {unknown}; it has {list(components)}", f"weights.{task}")
            for name, w in (weights or {}).items():
                if w < 0:
                    raise ConfigError(f"must be non-negative, got {w!r}", f"weights.{task}.{name}")


@dataclass
class LossConfig:
    beta: float = setting(0.04, min=0)          # KL weight (k3 estimator against the frozen start); 0 = no reference
    epsilon_low: float = setting(0.2, min=0, max=1)  # ratio clip: [1 - epsilon_low, 1 + epsilon_high]
    epsilon_high: float = setting(0.2, min=0)
    num_iterations: int = setting(1, min=1)     # policy updates per rollout batch (> 1 uses stored old log-probs)
    aggregation: str = setting("sequence-mean", choices=AGGREGATIONS)  # token-mean | sequence-mean | dr-grpo
    advantage_scale: str = setting("group", choices=SCALES)  # group | batch | none
    mask_truncated: bool = False              # completions that hit max_new_tokens do not train


@dataclass
class OptimConfig:
    lr: float = setting(1e-6, above=0)
    weight_decay: float = setting(0.0, min=0)
    betas: tuple[float, float] = setting((0.9, 0.999), min=0, below=1)  # AdamW's (beta1, beta2)
    eps: float = setting(1e-8, above=0)
    schedule: str = setting("linear", choices=SCHEDULES)  # constant | linear | cosine (after warmup)
    warmup_steps: int = setting(0, min=0)
    max_grad_norm: float = setting(1.0, min=0)  # 0 = no clipping
    micro_batch_size: int = setting(8, min=1)   # sequences per forward/backward; gradients accumulate over the batch


@dataclass
class RunConfig:
    out: str = "runs/train"
    steps: int = setting(0, min=0)              # training steps (rollout batches); 0 = until the data runs out
    seed: int = setting(0, min=0, max=2**32 - 1)
    save_every: int = setting(0, min=0)         # 0 = only at the end
    log_every: int = setting(1, min=1)
    sample_every: int = setting(10, min=0)      # sample-completions table; 0 = never
    samples_shown: int = setting(4, min=0)
    tensorboard: bool = True
    progress: bool = True
    warn_zero_spread_steps: int = setting(5, min=0)  # warn after this many steps in a row with zero reward spread; 0 = never

    def __post_init__(self) -> None:
        if not self.out:
            raise ConfigError("is required", "out")


@dataclass
class TrainConfig:
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    rollout: RolloutConfig = field(default_factory=RolloutConfig)
    reward: RewardConfig = field(default_factory=RewardConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    run: RunConfig = field(default_factory=RunConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def load_config(path: str | Path | None = None, overrides: list[str] = ()) -> TrainConfig:
    """Read a YAML config, apply `key=value` overrides, check every value. Relative paths are the caller's (cwd)."""
    return load(TrainConfig, path, overrides)
