"""The training configuration: typed sections that mirror the YAML file, plus `key=value` overrides.

A config names everything a run needs; the shipped `train/configs/videochat_r1.yaml` holds the paper's
values (docs/reference.md) and `tiny_cpu.yaml` a toy run for tests and the demo. Unknown keys and bad values
are user mistakes and raise `ConfigError` with the offending key, never a traceback deep in the loop.
"""

from __future__ import annotations

import dataclasses
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


@dataclass
class ModelConfig:
    path: str = setting("", required=True)      # a save_pretrained folder (`vrft tiny-model OUT` makes one)
    dtype: str = setting("auto", choices=DTYPES)  # auto (bf16 on GPU, fp32 on CPU) | bfloat16 | float32
    attn_implementation: str = "sdpa"         # sdpa | eager | flash_attention_2
    gradient_checkpointing: bool = False
    freeze_vision: bool = False               # keep the vision tower fixed (it still runs in every forward)
    lora_rank: int = 0                        # 0 = full fine-tune; > 0 wraps the language model with peft LoRA
    lora_alpha: int = 16
    lora_dropout: float = 0.0
    lora_targets: list[str] = field(default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj"])


@dataclass
class DataConfig:
    shards: str = setting("", required=True)    # a folder of training shards or a glob of Parquet files
    prompts_per_step: int = setting(1, min=1)   # prompts per step per process (the paper: 1 per GPU on 8 GPUs)
    prefetch: int = 4                         # examples decoded ahead by the worker thread
    epochs: int = 1                           # passes over the shards before the run stops by itself


@dataclass
class RolloutConfig:
    group_size: int = setting(8, min=2, why="advantages compare within a group")  # G completions per prompt
    temperature: float = setting(1.0, above=0)
    top_p: float = setting(1.0, above=0, max=1)
    top_k: int = 0                            # 0 = off
    max_new_tokens: int = setting(1024, min=1)


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


@dataclass
class LossConfig:
    beta: float = setting(0.04, min=0)          # KL weight (k3 estimator against the frozen start); 0 = no reference
    epsilon_low: float = setting(0.2, min=0)    # ratio clip: [1 - epsilon_low, 1 + epsilon_high]
    epsilon_high: float = setting(0.2, min=0)
    num_iterations: int = setting(1, min=1)     # policy updates per rollout batch (> 1 uses stored old log-probs)
    aggregation: str = setting("sequence-mean", choices=AGGREGATIONS)  # token-mean | sequence-mean | dr-grpo
    advantage_scale: str = setting("group", choices=SCALES)  # group | batch | none
    mask_truncated: bool = False              # completions that hit max_new_tokens do not train


@dataclass
class OptimConfig:
    lr: float = setting(1e-6, above=0)
    weight_decay: float = 0.0
    betas: list[float] = field(default_factory=lambda: [0.9, 0.999])
    eps: float = 1e-8
    schedule: str = setting("linear", choices=SCHEDULES)  # constant | linear | cosine (after warmup)
    warmup_steps: int = 0
    max_grad_norm: float = 1.0                # 0 = no clipping
    micro_batch_size: int = setting(8, min=1)   # sequences per forward/backward; gradients accumulate over the batch


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
    warn_zero_spread_steps: int = setting(5, min=0)  # warn after this many steps in a row with zero reward spread; 0 = never


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
