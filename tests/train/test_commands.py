"""`vrft tiny-model` and `vrft train`: what they write and how they refuse bad input."""

from __future__ import annotations

import pytest
import torch

from tests.train.conftest import TEST_RUN
from vrft.errors import UserError


def cli(*argv: str) -> int:
    """The command function itself, so user mistakes surface as UserError (main() prints and exits 2)."""
    from vrft.cli import build_parser

    args = build_parser().parse_args(list(argv))
    return args.func(args)


def test_tiny_model_is_a_loadable_qwen25_vl_and_deterministic(tmp_path, capsys):
    from transformers import AutoModelForImageTextToText, AutoProcessor

    assert cli("tiny-model", str(tmp_path / "a"), "--seed", "3") == 0
    assert "qwen2_5_vl" in capsys.readouterr().out
    cli("tiny-model", str(tmp_path / "b"), "--seed", "3")
    cli("tiny-model", str(tmp_path / "c"), "--seed", "4")
    a, b, c = (AutoModelForImageTextToText.from_pretrained(tmp_path / x) for x in "abc")
    assert type(a).__name__ == "Qwen2_5_VLForConditionalGeneration"
    sa, sb, sc = a.state_dict(), b.state_dict(), c.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert any(not torch.equal(sa[k], sc[k]) for k in sa)
    assert (tmp_path / "a" / "tokenizer.json").read_bytes() == (tmp_path / "b" / "tokenizer.json").read_bytes()

    proc = AutoProcessor.from_pretrained(tmp_path / "a")
    assert type(proc).__name__ == "Qwen2_5_VLProcessor"
    assert type(proc.video_processor).__name__ == "Qwen2VLVideoProcessor" and proc.video_processor.do_sample_frames is False
    tok = proc.tokenizer
    for name, token in (("video_token_id", "<|video_pad|>"), ("image_token_id", "<|image_pad|>"),
                        ("vision_start_token_id", "<|vision_start|>"), ("vision_end_token_id", "<|vision_end|>")):
        assert getattr(a.config, name) == tok.convert_tokens_to_ids(token)
    reply = "<think>the cup moves</think><answer>2.50 to 7.75</answer><glue>[(1.0, 2.0)]</glue>"
    ids = tok(reply).input_ids
    assert tok.decode(ids, skip_special_tokens=True) == reply  # answer tags are ordinary text
    assert len(ids) < len(reply) / 2  # the BPE learned the prompt vocabulary
    n = sum(p.numel() for p in a.parameters())
    assert 100_000 < n < 1_000_000


def test_train_refuses_bad_input_in_one_line(tmp_path, tiny_model_dir, shards):
    config = tmp_path / "c.yaml"
    config.write_text("model: {path: %s}\ndata: {shards: %s}\n" % (tiny_model_dir, shards))
    with pytest.raises(UserError, match="config file not found"):
        cli("train", str(tmp_path / "missing.yaml"))
    with pytest.raises(UserError, match="unknown key 'loss.bta'"):
        cli("train", str(config), "loss.bta=1")
    with pytest.raises(UserError, match="model.path .*not a model folder"):
        cli("train", str(config), f"model.path={tmp_path}")
    with pytest.raises(UserError, match="model.path runs/none: no such folder .*hub:ORG/NAME"):
        cli("train", str(config), "model.path=runs/none")  # a relative path of two parts is not taken for a hub id
    with pytest.raises(UserError, match="data.shards: no training shards"):
        cli("train", str(config), f"data.shards={tmp_path / 'none'}")
    with pytest.raises(UserError, match="--resume: no checkpoint"):
        cli("train", str(config), f"run.out={tmp_path / 'run'}", "--resume")
    with pytest.raises(UserError, match="not a complete checkpoint"):
        cli("train", str(config), "--resume-from", str(tmp_path))
    # a frame changed on disk after the mix: the run stops on that row, named (train/data.py)
    from train.synthetic_training_shards import toy_row, write_shard

    row = toy_row(0)
    frame = row["videos"][0]["video"][1]
    row["videos"][0]["video"][1] = {**frame, "bytes": frame["bytes"][:-16] + bytes(16)}
    write_shard(tmp_path / "bad" / "part-00000.parquet", [row, toy_row(1)])
    (tmp_path / "bad" / "manifest.json").write_text('{"rows": 2, "shards": [{"file": "part-00000.parquet", "rows": 2}]}')
    with pytest.raises(UserError, match=r"part-00000.parquet row 0 \(sample toy-00000\): frames \[1\] of 4"):
        cli("train", str(config), f"data.shards={tmp_path / 'bad' / 'part-*.parquet'}", f"run.out={tmp_path / 'bad-run'}", "run.steps=1",
            "run.progress=false")


def test_train_end_to_end_with_the_real_rewards_and_resume(tmp_path, tiny_model_dir, shards, capsys):
    """`vrft train` on the shipped tiny config: rewards from the task declarations, then --resume."""
    import json

    from train.trainer import GRPOTrainer  # noqa: F401  (imported here so a broken trainer fails this test clearly)
    from vrft.cli import main

    config = "train/configs/tiny_cpu.yaml"
    common = [*TEST_RUN, f"model.path={tiny_model_dir}", f"data.shards={shards}", f"run.out={tmp_path / 'run'}",
              "run.progress=false", "run.sample_every=1", "run.samples_shown=8"]
    assert main(["train", config, *common, "run.steps=2"]) == 0
    out = capsys.readouterr().out
    assert "trained 2 steps" in out and "final" in out
    # a random model under the real rewards: every completion cut at 8 tokens, every group alike, said so
    assert "mean reward cannot be told from noise in so few steps: 0.0000 (step 1) -> 0.0000 (step 2)" in out
    assert "warning: in 2 of 2 steps every group's completions scored alike" in out
    assert "100% of completions hit rollout.max_new_tokens" in out
    assert "shown fewer frames" not in out and "every stored frame shown" in out  # TEST_RUN sets no frame limit
    # a second run into the same run.out, and a resume with a changed setting, are refused before any work
    assert main(["train", config, *common, "run.steps=2"]) == 2
    assert "already holds a run; continue it with --resume" in capsys.readouterr().err
    assert main(["train", config, *common, "run.steps=3", "optim.lr=0.5", "--resume"]) == 2
    assert "optim.lr 0.001 -> 0.5" in capsys.readouterr().err
    assert main(["train", config, *common, "run.steps=3", "--resume"]) == 0
    assert "trained 3 steps (resumed from" in capsys.readouterr().out
    lines = [json.loads(x) for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [x["step"] for x in lines] == [1, 2, 3]
    # every completion of every step (8 a step): eight tokens of a random model hold no <answer> block, so
    # format and IoU are 0 for each, and the logged means are exactly 0
    samples = [json.loads(x) for x in (tmp_path / "run" / "samples.jsonl").read_text().splitlines()]
    assert [s["step"] for s in samples] == [1] * 8 + [2] * 8 + [3] * 8
    assert not any("<answer>" in s["completion"] for s in samples)
    assert all((s["format"], s["iou"], s["reward"]) == (0.0, 0.0, 0.0) for s in samples)
    for key in ("reward/format", "reward/iou", "reward/temporal_grounding/format", "reward/temporal_grounding/iou",
                "reward/mean"):
        assert [x[key] for x in lines] == [0.0, 0.0, 0.0], key
    assert main(["train", config, *common, "loss.beta=oops"]) == 2
    assert "loss.beta: expected float" in capsys.readouterr().err


def test_eval_generates_as_long_as_the_model_was_trained_to(tmp_path, tiny_config, monkeypatch):
    """`vrft eval` without --max-new-tokens: the length in the training config `vrft train` writes beside
    the final model (not a fixed 256 that cuts long thinking); the training default for other models."""
    import train.rollout
    from tests.train.conftest import e_share
    from train.synthetic_training_shards import write_toy_shards
    from train.trainer import run_training

    summary = run_training(tiny_config("rollout.max_new_tokens=5", "run.steps=1", out=tmp_path / "run"), score_fn=e_share)
    model = tmp_path / "run" / "final"
    write_toy_shards(tmp_path / "eval-shards", rows=4, files=1)
    seen, real = [], train.rollout.generate

    def spy(model, processor, prompts, gen_config, device, pixels=None):
        rollout = real(model, processor, prompts, gen_config, device, pixels)
        seen.append((gen_config.max_new_tokens, rollout.completion_width))
        return rollout

    monkeypatch.setattr(train.rollout, "generate", spy)
    assert cli("eval", "--model", str(model), "--data", str(tmp_path / "eval-shards"), "--out", str(tmp_path / "eval")) == 0
    assert summary["steps"] == 1 and seen == [(5, 5)]  # asked for 5, and random weights ran all the way
    from train.checkpoint import trained_max_new_tokens
    from train.config import RolloutConfig

    assert trained_max_new_tokens(model) == 5
    assert trained_max_new_tokens(tmp_path) == RolloutConfig().max_new_tokens == 1024  # not trained by vrft
