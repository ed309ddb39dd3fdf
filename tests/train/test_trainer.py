"""The GRPO loop on the tiny model: video under grad in the loss, no reference at beta 0, exact resume,
micro-batching and checkpointing leave the gradient unchanged, the update raises the reward, logs."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file

import train.model
from train.model import vision_tower
from train.trainer import GRPOTrainer, run_training
from tests.train.conftest import Stop, dies_on_call, e_share


def first_tensor(output):
    return output.pooler_output if hasattr(output, "pooler_output") else output[0]


def test_vision_tower_runs_under_grad_in_every_loss_forward(tiny_config):
    cfg = tiny_config("loss.num_iterations=2", "optim.micro_batch_size=3", "run.steps=1")
    trainer = GRPOTrainer(cfg, score_fn=e_share)
    tower = vision_tower(trainer.model)
    calls, grads = [], []

    def hook(module, args, output):
        out = first_tensor(output)
        calls.append((phase[0], torch.is_grad_enabled(), out.requires_grad))
        if out.requires_grad:
            out.register_hook(lambda g: grads.append(g.abs().sum().item()))

    phase = ["other"]
    accumulate = trainer._accumulate

    def tagged(rollout):
        phase[0] = "loss"
        try:
            return accumulate(rollout)
        finally:
            phase[0] = "other"

    trainer._accumulate = tagged
    before = {n: p.detach().clone() for n, p in tower.named_parameters()}
    handle = tower.register_forward_hook(hook)
    trainer.train()
    handle.remove()

    loss_calls = [c for c in calls if c[0] == "loss"]
    assert len(loss_calls) == 2 * 3  # 2 iterations x ceil(8 rows / 3) micro-batches
    assert all(grad_on and needs_grad for _, grad_on, needs_grad in loss_calls)
    assert len(grads) == len(loss_calls) and min(grads) > 0  # gradient flowed back into every video feature
    assert any(not torch.equal(before[n], p) for n, p in tower.named_parameters())  # and the tower trained


def count_loads(monkeypatch):
    loads = []
    real = train.model.load_model

    def counting(cfg, dtype):
        loads.append(cfg.path)
        return real(cfg, dtype)

    monkeypatch.setattr(train.model, "load_model", counting)
    monkeypatch.setattr("train.trainer.load_model", counting)
    return loads


def test_beta_zero_loads_no_reference(tiny_config, monkeypatch):
    loads = count_loads(monkeypatch)
    trainer = GRPOTrainer(tiny_config("loss.beta=0"), score_fn=e_share)
    assert trainer.ref is None and len(loads) == 1
    metrics, rollout = trainer.train_step(_prompts(trainer))
    assert rollout.ref_logp is None and metrics["kl"] == 0


def test_positive_beta_loads_a_frozen_reference(tiny_config, monkeypatch):
    loads = count_loads(monkeypatch)
    trainer = GRPOTrainer(tiny_config("loss.beta=0.1"), score_fn=e_share)
    assert len(loads) == 2 and trainer.ref is not None
    assert not any(p.requires_grad for p in trainer.ref.parameters())


def _prompts(trainer):
    batches = trainer._prefetcher()
    try:
        return [next(batches) for _ in range(trainer.cfg.data.prompts_per_step)]
    finally:
        batches.close()


def test_resume_continues_exactly(tiny_config, tiny_model_dir, tmp_path):
    """4 steps in one go == 3 steps (checkpoint at 2), the process dies in step 4, a fresh trainer resumes
    from step 2 for 2 more; the logs hold each step once."""
    common = ("run.steps=4", "run.save_every=2", "loss.num_iterations=2", "loss.beta=0.1",
              "optim.schedule=linear", "optim.warmup_steps=1", "rollout.temperature=0.9", "run.tensorboard=true",
              "run.sample_every=1")
    whole = run_training(tiny_config(*common, out=tmp_path / "a"), score_fn=e_share)

    with pytest.raises(Stop):
        run_training(tiny_config(*common, out=tmp_path / "b"), score_fn=dies_on_call(4))
    resumed = run_training(tiny_config(*common, out=tmp_path / "b"), resume=True, score_fn=e_share)

    assert resumed["resumed_from"].endswith("step-0000002") and resumed["steps"] == 4
    a, b = load_file(tmp_path / "a" / "final" / "model.safetensors"), load_file(tmp_path / "b" / "final" / "model.safetensors")
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    start = load_file(tiny_model_dir / "model.safetensors")
    assert any(not torch.equal(a[k], start[k]) for k in a)  # it trained
    same = ("reward/mean", "loss", "kl", "lr", "grad_norm")
    assert [[h[k] for k in same] for h in whole["history"][2:]] == [[h[k] for k in same] for h in resumed["history"]]

    # the logs of the uninterrupted run
    lines = [json.loads(x) for x in (tmp_path / "a" / "metrics.jsonl").read_text().splitlines()]
    assert [x["step"] for x in lines] == [1, 2, 3, 4]
    keys = set(lines[0]) | set(lines[1])
    for key in ("reward/mean", "reward/e_share", "reward/temporal_grounding/e_share", "advantage/std", "kl",
                "clip_fraction", "zero_spread_groups", "completion_length/mean", "truncated_share", "grad_norm",
                "lr", "tokens_per_second", "time/data", "time/rollout", "time/score", "time/advantages",
                "time/reference", "time/loss+backward", "time/optimizer step", "time/log", "time/checkpoint"):
        assert key in keys, key
    samples = [json.loads(x) for x in (tmp_path / "a" / "samples.jsonl").read_text().splitlines()]
    assert len(samples) == 4 * 4 and {"video_key", "reward", "completion", "e_share"} <= set(samples[0])
    assert samples[0]["video_key"].startswith("toy/video-")
    assert list((tmp_path / "a" / "tensorboard").glob("events.out.tfevents.*"))

    # the logs of the resumed run: step 3 ran twice (before the stop, and after the resume), logged once
    lines = [json.loads(x) for x in (tmp_path / "b" / "metrics.jsonl").read_text().splitlines()]
    assert [x["step"] for x in lines] == [1, 2, 3, 4]
    samples = [json.loads(x)["step"] for x in (tmp_path / "b" / "samples.jsonl").read_text().splitlines()]
    assert samples == [step for step in (1, 2, 3, 4) for _ in range(4)]
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(tmp_path / "b" / "tensorboard"))
    events.Reload()
    assert [e.step for e in events.Scalars("reward/mean")] == [1, 2, 3, 4]
    assert events.Scalars("reward/mean")[2].value == pytest.approx(resumed["history"][0]["reward/mean"])


def test_micro_batches_and_checkpointing_leave_the_gradient_unchanged(tiny_config):
    """The same rollout (same seed, no update in between) gives the same gradient for every micro-batch
    size, with or without activation checkpointing, in every aggregation."""
    trainer = GRPOTrainer(tiny_config("loss.beta=0.1"), score_fn=e_share)
    prompts = _prompts(trainer)
    captured: list[dict[str, torch.Tensor]] = []

    def capture():
        captured.append({n: p.grad.clone() for n, p in trainer.model.named_parameters() if p.grad is not None})
        trainer.optimizer.zero_grad()
        return 0.0

    trainer._optimizer_step = capture
    model = trainer.accelerator.unwrap_model(trainer.model)
    for aggregation in ("sequence-mean", "token-mean", "dr-grpo"):
        trainer.cfg.loss.aggregation = aggregation
        for micro, checkpointing in ((8, False), (3, False), (3, True)):
            trainer.cfg.optim.micro_batch_size = micro
            if checkpointing:
                model.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": False})
            torch.manual_seed(0)
            trainer.train_step(prompts)
            if checkpointing:
                model.activation_checkpointing_disable()
        whole, *others = captured[-3:]
        assert len(whole) > 10
        for other in others:
            assert other.keys() == whole.keys()
            for name, g in whole.items():
                torch.testing.assert_close(other[name], g, rtol=1e-4, atol=1e-7)


def test_the_update_raises_the_reward(tiny_config):
    """A learnable reward (share of 'e' and spaces): within 12 steps the mean reward rises clearly."""
    cfg = tiny_config("optim.lr=2e-2", "run.steps=12", "run.save_every=0", "rollout.group_size=8", "loss.beta=0",
                      "optim.micro_batch_size=16", "data.epochs=2", "run.seed=0")
    rewards = [h["reward/mean"] for h in run_training(cfg, score_fn=e_share)["history"]]
    assert len(rewards) == 12
    first, last = sum(rewards[:3]) / 3, sum(rewards[-3:]) / 3
    assert last > first + 0.15, rewards


def test_lora_trains_adapters_only_and_uses_the_base_as_reference(tiny_config, tmp_path, monkeypatch):
    loads = count_loads(monkeypatch)
    out = tmp_path / "lora"
    summary = run_training(tiny_config("model.lora_rank=4", "loss.beta=0.1", "run.steps=2", "optim.lr=5e-2", out=out),
                           score_fn=e_share)
    assert len(loads) == 1  # no second copy: the reference is the policy with its adapters off
    assert 0 < summary["trainable_parameters"] < summary["parameters"] / 5
    assert summary["history"][1]["kl"] > 0  # after one update the adapters moved away from the base
    from transformers import AutoModelForImageTextToText

    merged = AutoModelForImageTextToText.from_pretrained(out / "final")  # a plain model, adapters merged
    assert not any("lora" in n for n, _ in merged.named_parameters())


def test_frozen_vision_tower_stays_put(tiny_config, tiny_model_dir, tmp_path):
    out = tmp_path / "frozen"
    run_training(tiny_config("model.freeze_vision=true", "run.steps=2", out=out), score_fn=e_share)
    start = load_file(tiny_model_dir / "model.safetensors")
    end = load_file(out / "final" / "model.safetensors")
    visual = [k for k in start if k.startswith("visual.")]  # saved in the hub checkpoints' key layout
    language = [k for k in start if k.startswith("model.layers.")]
    assert visual and all(torch.equal(start[k], end[k]) for k in visual)
    assert any(not torch.equal(start[k], end[k]) for k in language)


def test_gradient_checkpointing_recomputes_the_layers(tiny_model_dir):
    """The switch does something: with it, each decoder layer's MLP runs again during backward."""
    from train.config import ModelConfig
    from train.model import load_model, prepare_policy

    runs = []
    for on in (False, True):
        cfg = ModelConfig(path=str(tiny_model_dir), gradient_checkpointing=on)
        model = prepare_policy(load_model(cfg, torch.float32), cfg).train()
        mlp, calls = model.model.language_model.layers[0].mlp, []
        forward = mlp.forward
        mlp.forward = lambda *a, **k: (calls.append(1), forward(*a, **k))[1]
        model(input_ids=torch.randint(10, 300, (2, 8))).logits.sum().backward()
        runs.append(len(calls))
    assert runs == [1, 2]


def test_masking_truncated_completions_removes_them_from_the_loss(tiny_config):
    """8 new tokens from random weights: every completion is cut off, so masked, nothing trains."""
    trainer = GRPOTrainer(tiny_config("loss.mask_truncated=true", "loss.beta=0"), score_fn=e_share)
    before = {n: p.detach().clone() for n, p in trainer.model.named_parameters()}
    torch.manual_seed(0)
    metrics, rollout = trainer.train_step(_prompts(trainer))
    assert metrics["truncated_share"] == 1.0 and rollout.train_mask(True).sum() == 0
    assert metrics["loss"] == 0 and metrics["grad_norm"] == 0
    assert all(torch.equal(before[n], p) for n, p in trainer.model.named_parameters())
    unmasked = rollout.train_mask(False)
    assert torch.equal(unmasked, rollout.completion_mask) and unmasked.sum() == rollout.size * rollout.completion_width
