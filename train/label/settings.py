"""The settings of a labeling run: a training config's model, rollout and reward sections (the labels are
for that training: same model, same sampling, same reward) plus the run's own (seed, batch size, ...).

`vrft label DATA --config train/configs/X.yaml [key=value ...]` reads the config with the one loader
(schemas/config.py): unknown keys and values out of range are refused naming the key. The config's other
sections (data, loss, optim, run) are about training and are left out.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable

from schemas.config import ConfigError, apply_override, build, read_yaml
from train.config import ModelConfig, RewardConfig, RolloutConfig

SECTIONS = ("model", "rollout", "reward")


@dataclass
class LabelConfig:
    model: ModelConfig = field(default_factory=ModelConfig)
    rollout: RolloutConfig = field(default_factory=RolloutConfig)
    reward: RewardConfig = field(default_factory=RewardConfig)


def load_label_config(path: str, overrides: Iterable[str] = ()) -> LabelConfig:
    """The model, rollout and reward sections of a training config, with `key=value` overrides on them."""
    raw = read_yaml(path) or {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping, got {type(raw).__name__}")
    data = copy.deepcopy({k: v for k, v in raw.items() if k in SECTIONS})
    for item in overrides:
        key = item.partition("=")[0].strip()
        if key.split(".")[0] not in SECTIONS:
            raise ConfigError(f"override {item!r}: labeling reads only the {', '.join(SECTIONS)} sections")
        apply_override(data, item)
    return build(LabelConfig, data)


@dataclass(frozen=True)
class LabelSettings:
    """Everything a worker needs, flat and picklable. `identity()` is what a --resume must match."""

    model_path: str
    model_fingerprint: str
    dtype: str
    attn_implementation: str
    profile: str
    weights: dict[str, dict[str, float]]
    group_size: int
    temperature: float
    top_p: float
    top_k: int
    max_new_tokens: int
    seed: int
    batch_size: int = 4             # prompts per generate call (RunInference's largest batch)
    keep_completions: bool = False
    think: bool = True              # ingestion folders: the prompt variant
    accelerator: str = ""           # a Beam resource hint for the generation step (Dataflow GPU workers)

    @classmethod
    def of(cls, cfg: LabelConfig, fingerprint: str, **run: Any) -> "LabelSettings":
        r, m = cfg.rollout, cfg.model
        return cls(
            model_path=m.path, model_fingerprint=fingerprint, dtype=m.dtype, attn_implementation=m.attn_implementation,
            profile=cfg.reward.profile, weights=cfg.reward.weights, group_size=r.group_size,
            temperature=r.temperature, top_p=r.top_p, top_k=r.top_k, max_new_tokens=r.max_new_tokens, **run,
        )

    def model_config(self) -> ModelConfig:
        return ModelConfig(path=self.model_path, dtype=self.dtype, attn_implementation=self.attn_implementation)

    def identity(self) -> dict[str, Any]:
        """The settings that decide the labels (not where the model lies, nor speed)."""
        out = asdict(self)
        for key in ("model_path", "batch_size", "accelerator"):
            out.pop(key)
        return out
