"""Dynamic sampling (`rollout.skip_zero_spread`, train/dynamic.py) on the tiny model with a scripted
reward that makes every third sample's group all-equal: no zero-spread group trains, every step still
has its groups, the extra draws are counted and move the data position, a flat group left in place
adds nothing to the gradient, and a stop + resume equals the uninterrupted run."""

from __future__ import annotations

import json
import zlib
from types import SimpleNamespace

import pytest
import torch
from safetensors.torch import load_file

from train.checkpoint import STATE
from train.losses import zero_spread_groups
from train.trainer import GRPOTrainer, run_training

P = 2  # tiny_cpu.yaml's prompts per step


def flat_every_third(task, completions, truths, profile="default", weights=None):
    """All-equal rewards for toy samples 0, 3, 6, ... (their span starts at 0); a hash of the text otherwise."""
    total = [1.0 if t["span"]["start"] == 0 else zlib.crc32(c.encode()) / 2**32 for c, t in zip(completions, truths)]
    return SimpleNamespace(total=total, components={"scripted": total})


def expected_steps(steps: int, groups: int, max_extra: int) -> tuple[list[list[str]], int]:
    """The samples each step trains on and the rows consumed, worked out from the rule alone."""
    trained, position = [], 0
    for _ in range(steps):
        kept, blocks = [], 0
        while blocks <= max_extra and (blocks == 0 or len(kept) < groups):
            block = range(position, position + groups)
            position += groups
            blocks += 1
            kept += [i for i in block if i % 3 != 0][: groups - len(kept)]
        trained.append([f"toy-{i:05d}" for i in kept])
    return trained, position


def spy(trainer) -> list[dict]:
    seen: list[dict] = []
    real = trainer._accumulate

    def record(rollout):
        rows = rollout.train_mask(False).sum(dim=1) > 0
        seen.append({"ids": [p.example.sample_id for p in rollout.prompts], "groups": len(rollout.prompts),
                     "flat": zero_spread_groups(rollout.rewards, rollout.group_size).tolist(),
                     "trains": rows.view(-1, rollout.group_size).all(dim=1).tolist()})
        return real(rollout)

    trainer._accumulate = record
    return seen


def test_no_flat_group_trains_and_every_step_keeps_its_groups(tiny_config, tmp_path):
    cfg = tiny_config("rollout.skip_zero_spread=true", "rollout.max_extra_draws=3", "run.steps=4", "run.save_every=4")
    trainer = GRPOTrainer(cfg, score_fn=flat_every_third)
    seen = spy(trainer)
    history = trainer.train()
    want, position = expected_steps(4, P, 3)
    assert [s["ids"] for s in seen] == want
    assert all(s["groups"] == P and not any(s["flat"]) and all(s["trains"]) for s in seen)
    draws = [h["dynamic/draws"] for h in history]
    assert draws == [1.0, 0.0, 1.0, 0.0]                              # blocks 0-1 and 6-7 each hold a flat sample
    assert [h["dynamic/kept"] for h in history] == [P] * 4 and sum(h["dynamic/dropped"] for h in history) == 4
    assert all(h["zero_spread_groups"] == 0 for h in history)
    assert trainer.state.position == position == 6 * P                # 4 blocks and 2 extra draws
    state = json.loads((tmp_path / "run" / "checkpoints" / "step-0000004" / STATE).read_text())
    assert state == {"step": 4, "position": position}


def test_when_the_draws_run_out_flat_groups_stay_without_loss(tiny_config):
    """No extra draw allowed: sample 0's group stays as a filler; its rows carry no token of loss, and
    the normalisers count only the trained rows."""
    cfg = tiny_config("rollout.skip_zero_spread=true", "rollout.max_extra_draws=0", "run.steps=1", "run.save_every=0")
    trainer = GRPOTrainer(cfg, score_fn=flat_every_third)
    seen = spy(trainer)
    history = trainer.train()
    assert seen[0]["ids"] == ["toy-00001", "toy-00000"]              # kept first, then the filler
    assert seen[0]["flat"] == [False, True] and seen[0]["trains"] == [True, False]
    assert history[0]["dynamic/filler"] == 1 and history[0]["dynamic/draws"] == 0 and trainer.state.position == P


def test_a_flat_group_adds_nothing_to_the_gradient(tiny_config):
    """After one real update the KL term has a gradient; a step whose groups are all flat then gives a
    zero gradient with dynamic sampling (no draw possible outside train()) and a non-zero one without."""
    grads = {}
    for skip in (True, False):
        calls = []

        def first_varied_then_flat(task, completions, truths, profile="default", weights=None):
            calls.append(1)
            total = [zlib.crc32(c.encode()) / 2**32 if len(calls) == 1 else 0.5 for c in completions]
            return SimpleNamespace(total=total, components={"scripted": total})

        torch.manual_seed(0)
        trainer = GRPOTrainer(tiny_config(f"rollout.skip_zero_spread={str(skip).lower()}", "loss.beta=0.5",
                                          "optim.lr=0.05"), score_fn=first_varied_then_flat)
        batches = trainer._prefetcher()
        try:
            first = [next(batches) for _ in range(P)]
            second = [next(batches) for _ in range(P)]
        finally:
            batches.close()
        trainer.train_step(first)
        captured = []
        trainer._optimizer_step = lambda: (captured.append(
            max(p.grad.abs().max().item() for p in trainer.model.parameters() if p.grad is not None)), 0.0)[1]
        metrics, _ = trainer.train_step(second)
        grads[skip] = (captured[0], metrics["loss"], metrics["kl"])
    assert grads[True] == (0.0, 0.0, 0.0)
    assert grads[False][0] > 0 and grads[False][2] > 0


def test_resume_with_dynamic_sampling_continues_exactly(tiny_config, tmp_path):
    common = ("rollout.skip_zero_spread=true", "rollout.max_extra_draws=2", "run.steps=4", "run.save_every=2",
              "loss.beta=0.1", "rollout.temperature=0.9")
    whole = run_training(tiny_config(*common, out=tmp_path / "a"), score_fn=flat_every_third)

    calls = []

    def dies_late(*args, **kw):
        calls.append(1)
        if len(calls) == 6:                       # one call per block: steps 1 and 3 take two, so step 4's
            raise RuntimeError("killed")
        return flat_every_third(*args, **kw)

    with pytest.raises(RuntimeError, match="killed"):
        run_training(tiny_config(*common, out=tmp_path / "b"), score_fn=dies_late)
    resumed = run_training(tiny_config(*common, out=tmp_path / "b"), resume=True, score_fn=flat_every_third)
    assert resumed["resumed_from"].endswith("step-0000002")
    a, b = load_file(tmp_path / "a" / "final" / "model.safetensors"), load_file(tmp_path / "b" / "final" / "model.safetensors")
    assert all(torch.equal(a[k], b[k]) for k in a)
    same = ("reward/mean", "loss", "kl", "dynamic/draws", "dynamic/kept")
    assert [[h[k] for k in same] for h in whole["history"][2:]] == [[h[k] for k in same] for h in resumed["history"]]
    for run in ("a", "b"):
        assert json.loads((tmp_path / run / "checkpoints" / "step-0000004" / STATE).read_text())["position"] == 12
