"""`vrft eval`: metrics per task on evaluation shards, with the trivial floors beside them."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rewards import get_profile, profile_names
from train.eval_items import read_items
from train.eval_report import METRICS_JSON, METRICS_MD, report_table, score_predictions, write_metrics
from train.predict import BASELINES, PREDICTIONS, baseline_predictions, load_predictions, predict_model
from vrft.errors import UserError
from vrft.options import number
from vrft.table import print_table


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "eval",
        help="evaluate a model (or a trivial baseline) on evaluation data; floors printed beside",
        description="Generate on evaluation data (greedy, batched), read the answers with the task's answer "
        "contract, and report per task: span mIoU and R@0.3/0.5/0.7, evidence mIoU, accuracy, tracking average "
        "overlap and success rate at 0.5/0.7, the share of unparseable answers, and the trivial floors computed "
        "on the same data. Writes OUT/predictions.jsonl (resumable), OUT/metrics.json and OUT/metrics.md.",
    )
    p.add_argument("--model", type=Path, help="a save_pretrained folder, such as vrft train's RUN/final or "
                   "vrft tiny-model's (default: none; give this or --baseline)")
    p.add_argument("--data", type=Path, required=True,
                   help="evaluation shards (vrft mix output), or an ingestion folder for --baseline")
    p.add_argument("--out", type=Path, required=True, help="folder for predictions and metrics")
    p.add_argument("--profile", default="default",
                   help=f"answer reading and metric convention: {', '.join(profile_names())} (default: default; "
                   "videochat-r1 also scores the tracking box the prompt gives, as the reference does)")
    p.add_argument("--baseline", choices=BASELINES,
                   help="evaluate a trivial predictor instead of a model (default: none; no --model needed)")
    p.add_argument("--batch-size", type=number(int, min=1), default=4, metavar="N",
                   help="prompts generated together (default 4; memory, not results)")
    p.add_argument("--max-new-tokens", type=number(int, min=1), default=None, metavar="N",
                   help="longest answer generated, in tokens (default: the length the model was trained with, "
                   "which vrft train writes beside the model; else 1024)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if (args.model is None) == (args.baseline is None):
        raise UserError("give either --model DIR or --baseline NAME")
    try:
        get_profile(args.profile)
    except KeyError as err:
        raise UserError(err.args[0]) from None
    if not args.data.exists():
        raise UserError(f"no such data: {args.data}")
    if args.model is not None and not (args.model / "config.json").is_file():
        raise UserError(f"{args.model} is not a model folder (no config.json); make one with `vrft tiny-model`")
    try:
        items = read_items(args.data)
    except FileNotFoundError as err:
        raise UserError(str(err)) from None
    from pipelines.outputs import FolderRefused, check_apart, locked

    try:
        check_apart(str(args.out), {"--data": str(args.data), "--model": str(args.model) if args.model else None})
        with locked(str(args.out), "eval"):
            return _evaluate(args, items)
    except FolderRefused as err:
        raise UserError(str(err)) from None


def _evaluate(args: argparse.Namespace, items: list) -> int:
    if args.baseline:
        completions = baseline_predictions(items, args.baseline)
        if not completions:
            raise UserError(f"no task in {args.data} has a {args.baseline} floor")
        title = f"baseline {args.baseline} on {args.data}"
    else:
        if (args.data / "samples").is_dir():
            raise UserError(f"{args.data} is an ingestion folder: make evaluation shards with `vrft mix` first")
        completions = _generate(args, len(items))  # a corrupted row stops it, named (train.data.ShardDataError)
        title = f"{args.model} on {args.data}"
    report = score_predictions(items, completions, args.profile)
    write_metrics(report, args.out, title)
    print_table(f"{title} · profile {report.profile}", *report_table({"value": report}))
    print(f"wrote {args.out / METRICS_JSON} and {args.out / METRICS_MD}")
    return 0


def _generate(args: argparse.Namespace, total: int) -> dict[str, str]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    done = len(load_predictions(args.out / PREDICTIONS))
    with Progress("generating", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), transient=True,
                  disable=not sys.stderr.isatty()) as bar:
        task = bar.add_task("eval", total=total, completed=done)
        return predict_model(args.model, args.data, args.out, args.batch_size, args.max_new_tokens,
                             progress=lambda n: bar.advance(task, n))
