"""`vrft train CONFIG.yaml [key=value ...]`: GRPO training on training shards (see train/trainer.py)."""

from __future__ import annotations

import argparse

from vrft.errors import UserError


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "train",
        help="GRPO-train a video LM on training shards",
        description="GRPO training (VideoChat-R1 recipe) on the shards `vrft mix` writes. Configs: "
        "train/configs/videochat_r1.yaml (the paper's values), tiny_cpu.yaml (a toy run). Several GPUs: "
        "accelerate launch --config_file train/configs/accelerate_fsdp.yaml -m vrft train CONFIG.yaml",
    )
    p.add_argument("config", help="YAML config")
    p.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="config overrides, e.g. optim.lr=1e-6 run.steps=10")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--resume", action="store_true", help="continue from the latest checkpoint under run.out")
    group.add_argument("--resume-from", metavar="CHECKPOINT", help="continue from this checkpoint folder")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from train.config import ConfigError, load_config

    try:
        cfg = load_config(args.config, args.overrides)
    except ConfigError as err:
        raise UserError(str(err)) from None
    check_paths(cfg)
    from train.limits import PromptTooLong
    from train.summary import describe, reward_trend
    from train.threads import cpu_threads
    from train.trainer import run_training

    cpu_threads()

    resume = Path(args.resume_from) if args.resume_from else args.resume
    if args.resume_from and not (resume / "trainer_state.json").is_file():
        raise UserError(f"--resume-from {resume}: not a complete checkpoint (no trainer_state.json)")
    if args.resume:
        from train.checkpoint import latest_checkpoint

        if latest_checkpoint(Path(cfg.run.out)) is None:
            raise UserError(f"--resume: no checkpoint under {Path(cfg.run.out) / 'checkpoints'}")
    try:
        summary = run_training(cfg, resume=resume)
    except PromptTooLong as err:
        raise UserError(str(err)) from None
    last = summary["history"][-1] if summary["history"] else {}
    where = f" (resumed from {summary['resumed_from']})" if summary["resumed_from"] else ""
    print(f"trained {summary['steps']} steps{where}; {summary['trainable_parameters']:,} of "
          f"{summary['parameters']:,} parameters trainable")
    if last:
        print(f"last step: reward {last['reward/mean']:.4f}, kl {last['kl']:.4f}, {last['step_seconds']:.2f} s/step")
    for line in describe(reward_trend(summary["history"])):
        print(line)
    print(summary["prompts"])
    out = Path(summary["out"])
    print(f"wrote {out / 'metrics.jsonl'}, {out / 'samples.jsonl'}, {out / 'checkpoints'}, model {out / 'final'}")
    return 0


def check_paths(cfg) -> None:
    """The model folder (or a hub id like Org/Name) and the shards must exist before anything loads."""
    from pathlib import Path

    from train.data import shard_files

    model = Path(cfg.model.path)
    looks_local = model.is_absolute() or cfg.model.path.startswith(".") or len(model.parts) != 2
    if model.exists() or looks_local:
        if not (model / "config.json").is_file():
            raise UserError(f"model.path {cfg.model.path}: no model there (make a toy one with `vrft tiny-model DIR`)")
    try:
        shard_files(cfg.data.shards)
    except FileNotFoundError as err:
        raise UserError(f"data.shards: {err}") from None
