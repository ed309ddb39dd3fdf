"""`vrft label DATA --config CONFIG.yaml --out DIR [key=value ...]`: reward labels per sample.

For every sample of DATA (training shards, or an ingestion folder with frames): G completions from the
config's model, sampled as training samples (its rollout section), scored by its reward profile; one
row per sample in OUT/labels/ (reward mean and std per component, share of successes, share unparsed,
completion length, the model's fingerprint, the profile, G, the seed) and OUT/manifest.json. An Apache
Beam job (RunInference); unrecognised options are Beam pipeline options and go to the runner untouched.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

from train.pace import clock, left_at_mean_pace
from vrft.beam_command import print_dry_run, ticking
from vrft.errors import UserError
from vrft.options import number
from vrft.table import print_table


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("label", help="reward labels per sample: G completions from a model, scored (Apache Beam)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("data", metavar="DATA", help="training shards (a folder or a glob) or an ingestion folder with frames")
    p.add_argument("--config", required=True, metavar="CONFIG.yaml",
                   help="a training config (train/configs/*.yaml): its model, rollout and reward sections are used")
    p.add_argument("overrides", nargs="*", metavar="KEY=VALUE",
                   help="overrides of those sections, e.g. model.path=runs/tiny rollout.group_size=8")
    p.add_argument("--out", required=True, metavar="DIR", help="the label folder to write")
    p.add_argument("--seed", type=number(int, min=0, max=2**32 - 1), default=0,
                   help="sampling seed; each sample's completions come from (seed, sample id) alone (default 0)")
    p.add_argument("--batch-size", type=number(int, min=1), default=4,
                   help="prompts per generate call, RunInference's largest batch (default 4; speed only)")
    p.add_argument("--keep-completions", action="store_true",
                   help="also write every completion with its scores to OUT/completions/ (default: labels only)")
    p.add_argument("--no-think", action="store_true",
                   help="ingestion folders: the no-think prompt (training shards carry their own prompts)")
    p.add_argument("--runner", default="FnApiRunner", help="Beam runner (default: FnApiRunner, in-process)")
    p.add_argument("--accelerator", default="", metavar="HINT",
                   help="Beam resource hint for the generation step, e.g. "
                        "'type:nvidia-l4;count:1;install-nvidia-driver' on Dataflow (default: none)")
    p.add_argument("--resume", action="store_true", help="finish an interrupted run; keep the units already written")
    p.add_argument("--overwrite", action="store_true", help="replace the outputs of an earlier run in --out")
    p.add_argument("--dry-run", action="store_true", help="plan, build the options and the graph, print them, run nothing")
    p.add_argument("--no-progress", action="store_true", help="no progress line (default: one, with an ETA)")
    p.set_defaults(func=run, pass_through=True)


def progress_line(done: int, total: int, completions: int, elapsed: float) -> str:
    """`labelled 12/40 samples · 96 completions (3.1/s) · 0:00:31 · eta 0:01:12` (eta once a sample is done)."""
    rate = completions / elapsed if elapsed > 0 else 0.0
    eta = clock(left_at_mean_pace(elapsed, done, total - done))
    return f"labelled {done}/{total} samples · {completions} completions ({rate:.1f}/s) · {clock(elapsed)} · eta {eta}"


def _ticker(stop: threading.Event, total: int, interval: float) -> None:
    from pipelines.ingest import progress

    t0, tty = time.perf_counter(), sys.stderr.isatty()
    while not stop.wait(interval):
        counts = progress.snapshot()
        line = progress_line(counts.get("samples", 0), total, counts.get("completions", 0), time.perf_counter() - t0)
        print(f"\r{line}" if tty else line, end="" if tty else "\n", file=sys.stderr, flush=True)
    if tty:
        print(file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    from pipelines.ingest import progress
    from pipelines.ingested import NotIngested
    from train.fingerprint import model_fingerprint
    from train.label.job import run_label
    from train.label.inputs import plan
    from train.label.settings import LabelSettings, load_label_config
    from train.preflight import check_model

    # argparse hands KEY=VALUE written after an option to the pass-through list; Beam's options start with --
    extra = list(getattr(args, "extra", []))
    overrides = list(args.overrides) + [t for t in extra if not t.startswith("-")]
    beam_args = [t for t in extra if t.startswith("-")]
    stray = [t for t in overrides if "=" not in t]
    if stray:
        raise UserError(f"unrecognized arguments: {' '.join(stray)} (overrides are KEY=VALUE)")
    cfg = load_label_config(args.config, overrides)
    check_model(cfg.model.path)
    if not Path(cfg.model.path).is_dir():
        raise UserError(f"model.path {cfg.model.path}: labeling needs a local model folder (its content is "
                        "fingerprinted into every label)")
    settings = LabelSettings.of(cfg, model_fingerprint(Path(cfg.model.path))["fingerprint"], seed=args.seed,
                                batch_size=args.batch_size, keep_completions=args.keep_completions,
                                think=not args.no_think, accelerator=args.accelerator)
    try:
        work = plan(args.data, settings.think)
    except NotIngested as err:
        raise UserError(str(err)) from None
    out = args.out.rstrip("/") or "/"
    progress.reset()
    with ticking(_ticker, work.samples, enabled=not (args.dry_run or args.no_progress)):
        result = run_label(args.data, out, settings, beam_args, runner=args.runner,
                           dry_run=args.dry_run, overwrite=args.overwrite, resume=args.resume, planned=work)
    if args.dry_run:
        print_dry_run(f"{len(work.units)} units, {work.samples} samples -> {out} on {args.runner}",
                      result.options, result.plan)
        return 0
    m = result.manifest
    rows = [[k, v] for k, v in m["samples"].items()] + [[f"  skipped: {k}", v] for k, v in m["skipped_by_reason"].items()]
    rows += [["units kept from before (--resume)", m["resumed_units"]],
             ["completions/s", m["timings"]["completions_per_s"]]]
    print_table(f"vrft label -> {out}", ["what", "count"], rows)
    print_table("per task", ["task", "samples", "reward mean", "zero spread", "success", "unparsed"],
                [(t, v["samples"], f"{v['reward_mean']:.3f}", f"{v['zero_spread_share']:.2f}",
                  f"{v['success_mean']:.2f}", f"{v['unparsed_mean']:.2f}") for t, v in m["tasks"].items()])
    print(f"wrote {out}/labels and manifest.json")
    return 0
