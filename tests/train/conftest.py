"""Fixtures for the trainer tests: one tiny model per session, toy shards, a learnable test reward."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from train.config import load_config
from train.synthetic_training_shards import write_toy_shards

ROOT = Path(__file__).resolve().parents[2]
TINY_CONFIG = ROOT / "train" / "configs" / "tiny_cpu.yaml"


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    from train.tiny_model import save_tiny_model

    return save_tiny_model(tmp_path_factory.mktemp("tiny") / "model", seed=0)


@pytest.fixture(scope="session")
def shards(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("shards")
    write_toy_shards(folder, rows=24, files=2)
    return folder


def e_share(task, completions, truths, profile="default", weights=None):
    """A test reward with a learnable signal: the share of characters that are 'e' or a space."""
    total = [sum(ch in "e " for ch in c) / max(len(c), 1) for c in completions]
    return SimpleNamespace(total=total, components={"e_share": total})


class Stop(Exception):
    """A process dying mid-run, as the tests stage it."""


def dies_on_call(n: int):
    """`e_share` that raises `Stop` on its `n`-th call (the process dies during that step's scoring)."""
    calls = []

    def score(*args, **kw):
        calls.append(1)
        if len(calls) == n:
            raise Stop
        return e_share(*args, **kw)

    return score


# The tests' own run shape (the shipped tiny_cpu.yaml is tuned to learn in the demo, not to be small):
# 2 prompts x 4 completions of 8 new tokens, a reference model, 4 steps.
TEST_RUN = (
    "data.prompts_per_step=2", "data.prefetch=4", "data.epochs=1", "data.max_frames=0", "data.max_prompt_tokens=0",
    "rollout.group_size=4", "rollout.temperature=1.0", "rollout.max_new_tokens=8", "loss.beta=0.04",
    "optim.lr=1e-3", "optim.micro_batch_size=4", "run.steps=4", "run.save_every=2", "run.sample_every=2",
)


@pytest.fixture
def tiny_config(tiny_model_dir, shards, tmp_path):
    """A function building the tiny CPU config with test paths and extra `key=value` overrides."""
    def make(*overrides: str, out: Path | None = None):
        base = [
            *TEST_RUN, f"model.path={tiny_model_dir}", f"data.shards={shards}", f"run.out={out or tmp_path / 'run'}",
            "run.progress=false", "run.tensorboard=false", "run.sample_every=0",
        ]
        return load_config(TINY_CONFIG, base + list(overrides))
    return make
