"""`vrft demo`: the whole job on data it makes itself, offline, on the CPU (see vrft/demo.py)."""

from __future__ import annotations

import argparse
from pathlib import Path

from vrft.demo_size import DemoSize
from vrft.options import number


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="run the whole job end to end on a dataset it generates (no network); writes an HTML report",
        description="Generate a small raw video dataset with exact truth (ffmpeg), ingest it with Beam, validate "
        "it, mix training and held-out shards, build the tiny model, evaluate it, warm-start it on the answer "
        "contract (guesses, not answers), evaluate, train GRPO, evaluate again, and write one HTML report: whether "
        "GRPO beat the warm start and the floors on held-out videos, with intervals, reward curves, dataset plots "
        "and sample contact sheets. OUT is replaced on a rerun only when an earlier `vrft demo` made it; any other "
        "folder that is not empty is refused.",
    )
    d = DemoSize()
    p.add_argument("--out", type=Path, default=Path("runs/demo"),
                   help="where everything goes: new, empty, or an earlier demo's folder (default: runs/demo)")
    p.add_argument("--videos", type=number(int, min=2), default=d.videos,
                   help=f"training videos, one sample per task each (default {d.videos})")
    p.add_argument("--eval-videos", type=number(int, min=2), default=d.eval_videos,
                   help=f"held-out videos: samples per task in the evaluation (default {d.eval_videos})")
    p.add_argument("--steps", type=number(int, min=2), default=d.steps, help=f"GRPO steps (default {d.steps})")
    p.add_argument("--warm-steps", type=number(int, min=0), default=d.warm_steps,
                   help=f"supervised warm-start steps on guesses, 8 examples each (default {d.warm_steps})")
    p.add_argument("--seed", type=number(int, min=0, max=2**32 - 1), default=d.seed,
                   help=f"videos, weights, guesses and sampling (default {d.seed})")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pipelines.outputs import FolderRefused
    from vrft.demo import run_demo  # torch, transformers, Beam: loaded only when the demo runs
    from vrft.errors import UserError

    size = DemoSize(videos=args.videos, eval_videos=args.eval_videos, warm_steps=args.warm_steps, steps=args.steps,
                    seed=args.seed)
    try:
        report = run_demo(args.out, size)
    except FolderRefused as err:
        raise UserError(str(err)) from None
    print(f"report: {report.resolve()}")
    return 0
