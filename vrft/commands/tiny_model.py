"""`vrft tiny-model OUT`: an offline, randomly initialised Qwen2.5-VL-architecture model + processor."""

from __future__ import annotations

import argparse
from pathlib import Path

from train.tiny_model import save_tiny_model
from vrft.errors import UserError
from vrft.options import number


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "tiny-model",
        help="build a tiny random Qwen2.5-VL (model + tokenizer + processor) offline",
        description="Build a tiny, randomly initialised Qwen2.5-VL-architecture model with a locally trained "
        "tokenizer and the official processor classes, saved with save_pretrained. For tests, demos and "
        "trying configs on a CPU; it learns nothing useful.",
    )
    p.add_argument("out", help="folder to write (created; existing model files are replaced)")
    p.add_argument("--seed", type=number(int, min=0), default=0, help="weights seed (default 0); same seed, same model")
    p.add_argument("--vocab-size", type=number(int, min=300), default=512,
                   help="BPE vocabulary size, at least 300: 256 bytes, the special tokens and merges (default 512)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UserError(f"{out} exists and is not a folder")
    from transformers import AutoConfig  # seconds to import: only when a model is made

    save_tiny_model(out, seed=args.seed, vocab_size=args.vocab_size)
    cfg = AutoConfig.from_pretrained(out)
    print(f"wrote a tiny {cfg.model_type} (text hidden {cfg.text_config.hidden_size}, "
          f"{cfg.text_config.num_hidden_layers} layers, vocab {cfg.text_config.vocab_size}, seed {args.seed}) to {out}")
    return 0
