"""The demo's size, apart from the demo itself: `vrft demo --help` shows these defaults without loading
torch, and `vrft.demo` runs with them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DemoSize:
    videos: int = 64              # training videos (one sample per task each)
    eval_videos: int = 96         # held-out videos: the samples per task every metric is computed on
    warm_steps: int = 120         # supervised steps on guesses, 8 examples each
    steps: int = 80               # GRPO steps (train/configs/tiny_cpu.yaml sets the rest)
    seed: int = 0                 # the videos, the model's weights, the guesses, the sampling
