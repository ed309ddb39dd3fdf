"""`vrft demo`: the whole job on data it makes itself, offline, on the CPU (see vrft/demo.py)."""

from __future__ import annotations

import argparse
from pathlib import Path

from vrft.options import number


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="run the whole job end to end on a dataset it generates (no network); writes an HTML report",
        description="Generate a small raw video dataset with exact truth (ffmpeg), ingest it with Beam, validate "
        "it, mix training and evaluation shards, build the tiny model, evaluate, train a few GRPO steps, "
        "evaluate again, and write one HTML report (reward curves, dataset plots, sample contact sheets, metrics).",
    )
    p.add_argument("--out", type=Path, default=Path("runs/demo"), help="where everything goes (default: runs/demo)")
    p.add_argument("--videos", type=number(int, min=1), default=12, help="videos to generate (4 samples each; default 12)")
    p.add_argument("--steps", type=number(int, min=1), default=8, help="GRPO steps (default 8)")
    p.add_argument("--warm-steps", type=number(int, min=0), default=240, help="supervised warm-start steps (default 240)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import shutil

    from vrft.demo import run_demo

    if args.out.exists():
        shutil.rmtree(args.out)  # the demo is regenerated from scratch: its folder holds nothing else
    report = run_demo(args.out, videos=args.videos, steps=args.steps, warm_steps=args.warm_steps)
    print(f"report: {report.resolve()}")
    return 0
