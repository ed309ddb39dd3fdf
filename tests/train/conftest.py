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


@pytest.fixture
def tiny_config(tiny_model_dir, shards, tmp_path):
    """A function building the tiny CPU config with test paths and extra `key=value` overrides."""
    def make(*overrides: str, out: Path | None = None):
        base = [
            f"model.path={tiny_model_dir}", f"data.shards={shards}", f"run.out={out or tmp_path / 'run'}",
            "run.progress=false", "run.tensorboard=false", "run.sample_every=0",
        ]
        return load_config(TINY_CONFIG, base + list(overrides))
    return make
