"""`vrft train CONFIG.yaml [key=value ...]`: GRPO training on training shards (see train/trainer.py)."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from pathlib import Path

from train.config import load_config
from train.preflight import check_model, check_run_folder, check_shards, record_config
from train.summary import describe, reward_trend
from vrft.errors import UserError


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "train",
        help="GRPO-train a video LM on training shards",
        description="GRPO training (VideoChat-R1 recipe) on the shards `vrft mix` writes. Configs: "
        "train/configs/videochat_r1.yaml (the paper's values), tiny_cpu.yaml (a toy run). Every value is "
        "checked before the model loads. model.path is a local save_pretrained folder; hub:ORG/NAME downloads "
        "from the Hugging Face hub. Several GPUs: "
        "accelerate launch --config_file train/configs/accelerate_fsdp.yaml -m vrft train CONFIG.yaml",
    )
    p.add_argument("config", help="YAML config (train/configs/*.yaml)")
    p.add_argument("overrides", nargs="*", metavar="KEY=VALUE",
                   help="config overrides, e.g. optim.lr=1e-6 run.steps=10 (see the README's configuration reference)")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--resume", action="store_true",
                       help="continue the run in run.out from its latest checkpoint (default: a new run; run.out "
                       "must then be empty or absent)")
    group.add_argument("--resume-from", metavar="CHECKPOINT",
                       help="continue from this checkpoint folder, RUN/checkpoints/step-N (default: none)")
    p.add_argument("--allow-changed", metavar="KEY,...", default="",
                   help="with --resume: accept these settings differing from the resumed run's (keys such as "
                   "optim.lr, or whole sections such as optim); default: none (run length and logging may "
                   "always change)")
    p.set_defaults(func=run)


def _main_process() -> bool:
    """Under `accelerate launch` every process runs this command; one of them checks and records run.out."""
    return os.environ.get("RANK", "0") == "0"


def run(args: argparse.Namespace) -> int:
    from pipelines.outputs import FolderRefused, check_apart, locked

    cfg = load_config(args.config, args.overrides)
    check_model(cfg.model.path)
    check_shards(cfg.data.shards)
    allow = [k.strip() for k in args.allow_changed.split(",") if k.strip()]
    if allow and not (args.resume or args.resume_from):
        raise UserError("--allow-changed goes with --resume or --resume-from (a new run has nothing to differ from)")
    try:
        check_apart(cfg.run.out, {"data.shards": cfg.data.shards})
        # under `accelerate launch` every process runs this command; the first holds run.out's lock
        with locked(cfg.run.out, "train") if _main_process() else contextlib.nullcontext():
            summary = _train(cfg, args, allow)
    except FolderRefused as err:
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
    out = summary["out"]
    print(f"wrote {out}/metrics.jsonl, samples.jsonl, checkpoints/, model {out}/final")
    return 0


def _train(cfg, args: argparse.Namespace, allow: list[str]) -> dict:
    """Check run.out (the first process checks and records run_config.json), then train."""
    if _main_process():
        _, notes = check_run_folder(cfg, args.resume, args.resume_from, allow)
        for note in notes:
            print(f"note: {note}", file=sys.stderr)
        record_config(cfg)
    resume = Path(args.resume_from) if args.resume_from else args.resume
    if _main_process():
        print(f"vrft train: config checked; loading torch and transformers ... (run.out {cfg.run.out})", flush=True)
    from train.threads import cpu_threads
    from train.trainer import run_training  # torch and transformers: seconds to import, for training only

    cpu_threads()
    return run_training(cfg, resume=resume)
