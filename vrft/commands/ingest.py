"""`vrft ingest DATASET --annotations PATH... --out DIR`: raw dataset -> samples/videos/rejects + manifest.

Unrecognised options are Beam pipeline options (--project, --region, --temp_location,
--direct_num_workers, ...) and go to the runner untouched.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time

from pipelines import storage
from pipelines.ingest import IngestConfig, progress
from pipelines.normalize import RepairPolicy
from pipelines.sources import adapter_names
from vrft.beam_command import print_dry_run, ticking
from pipelines.sources.base import SourceOptions
from pipelines.video.policy import FramePolicy
from pipelines.video.worker import machine_cores
from vrft.commands.validate import print_result
from vrft.errors import UserError
from vrft.options import number
from vrft.table import print_table


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "ingest",
        help="raw dataset -> validated Parquet shards (Apache Beam)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("dataset", metavar="DATASET", choices=adapter_names(), help=f"one of: {', '.join(adapter_names())}")
    p.add_argument("--annotations", nargs="+", required=True, metavar="PATH", help="annotation files (or GOT-10k split folders)")
    p.add_argument("--videos", metavar="DIR", help="folder the media paths are relative to (default: none, labels "
                   "only; needed for frames except by got10k, whose split folders hold them)")
    p.add_argument("--durations", metavar="PATH", help="per-video durations (charades.json or the Charades_v1 csv); "
                   "charades-sta needs it when its videos are not given (--no-frames), or every record is "
                   "rejected as duration_missing; the other datasets carry their durations (default: none)")
    p.add_argument("--split", metavar="NAME", help="split name (default: from the annotation file's name)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder")
    p.add_argument("--no-frames", action="store_true", help="labels only: do not decode videos")
    p.add_argument("--runner", default="FnApiRunner", help="Beam runner (default: FnApiRunner, in-process)")
    p.add_argument("--resume", action="store_true", help="finish an interrupted run; skip the videos already written")
    p.add_argument("--overwrite", action="store_true", help="replace the outputs of an earlier run in --out")
    p.add_argument("--dry-run", action="store_true", help="build the options and the pipeline graph, print the plan, run nothing")
    p.add_argument("--no-validate", action="store_true", help="skip `vrft validate` on the output (run by default)")
    p.add_argument("--only-present-videos", action="store_true",
                   help="for a dataset whose videos are partly downloaded: records without their video are still "
                   "rejected (video_missing) but not held against the validation's share of rejects")
    p.add_argument("--allow-large", action="store_true",
                   help=f"go past the input limits ({_limits()}) checked before any work")
    g = p.add_argument_group("repair and frame policy (frames per video are set here, at ingestion)")
    fp = FramePolicy()
    g.add_argument("--clip-tolerance", type=number(float, min=0), default=2.0, metavar="S",
                   help="clip spans past the ends by at most S seconds; further out is rejected (default 2)")
    g.add_argument("--fps", type=number(float, above=0), metavar="F",
                   help=f"target frames per second (default {fp.target_fps:g})")
    g.add_argument("--min-frames", type=number(int, min=1), metavar="N",
                   help=f"fewest frames per video (default {fp.min_frames})")
    g.add_argument("--max-frames", type=number(int, min=1), metavar="N",
                   help=f"most frames per video, the lever for shorter prompts (default {fp.max_frames})")
    g.add_argument("--total-pixels", type=number(int, above=0), metavar="N",
                   help=f"visual pixel budget per video (default 3584*28*28 = {fp.total_pixels})")
    g.add_argument("--video-timeout", type=number(float, above=0), default=120.0, metavar="S",
                   help="seconds per video before its decoder is killed and the video rejected (default 120)")
    g.add_argument("--videos-per-part", type=number(int, min=1), default=64, metavar="N",
                   help="videos per videos/ file, the unit --resume keeps (default 64)")
    g.add_argument("--label-shards", type=number(int, min=1), default=1, metavar="N",
                   help="files per label table, samples/ and rejects/ (default 1)")
    w = p.add_argument_group("how much of the machine decoding uses (speed only: the output is the same)")
    w.add_argument("--decode-workers", type=number(int, min=1), metavar="N",
                   help=f"decoder processes, videos decoded at a time (default: the machine's cores, {machine_cores()} here)")
    w.add_argument("--image-threads", type=number(int, min=1), metavar="N",
                   help=f"images of a frame sequence read at a time (default: the machine's cores, {machine_cores()} here)")
    p.set_defaults(func=run, pass_through=True)


def _limits() -> str:
    from pipelines.budget import human
    from pipelines.ingest.preflight import MAX_JSON_BYTES, MAX_RECORDS

    return f"{human(MAX_RECORDS, 'records')}, {human(MAX_JSON_BYTES, 'bytes')} of JSON parsed whole"


def _progress(stop: threading.Event, interval: float) -> None:
    t0 = time.perf_counter()
    tty = sys.stderr.isatty()
    while not stop.wait(interval):
        now, counts = time.perf_counter() - t0, progress.snapshot()
        rec, vid = counts.get("records", 0), counts.get("videos", 0)
        line = f"read {rec} records ({rec / now:.0f}/s) · {vid} videos ({vid / now:.2f}/s) · {now:.0f} s"
        print(f"\r{line}" if tty else line, end="" if tty else "\n", file=sys.stderr, flush=True)
    if tty:
        print(file=sys.stderr)


def _summary(result) -> None:
    m, t = result.manifest, result.manifest["timings"]
    rows = [[k, v] for k, v in m["counts"].items()]
    rows += [[f"  repaired: {k}", v] for k, v in m["repaired_by_reason"].items()]
    rows += [[f"  rejected: {k}", v] for k, v in m["rejected_by_reason"].items()]
    rows.append(["videos written", m["videos"]["written"]])
    rows += [[f"  video failed: {k}", v] for k, v in m["videos"]["failed_by_reason"].items()]
    rows += [["seconds", f"{t['total_s']:.1f}"], ["records/s", f"{t['records_per_s']:.1f}"]]
    if m["videos"]["written"]:  # decoded videos only: a missing file or a refused path is no decode
        rows.append(["videos written/s", f"{m['videos']['written'] / max(t['run_s'], 1e-9):.2f}"])
    print_table(f"vrft ingest -> {result.out}", ["what", "count"], rows)
    print(f"wrote {result.out}/samples, videos, rejects and manifest.json")


def run(args: argparse.Namespace) -> int:
    from pipelines.ingest.run import IngestError, run_ingest  # Apache Beam: seconds to import, for ingest only

    frame_policy = {
        k: v
        for k, v in (("target_fps", args.fps), ("min_frames", args.min_frames), ("max_frames", args.max_frames),
                     ("total_pixels", args.total_pixels))
        if v is not None
    }
    try:
        FramePolicy(**frame_policy)
    except ValueError as err:  # e.g. --min-frames above --max-frames: refused now, not inside the pipeline
        raise UserError(str(err)) from None
    cfg = IngestConfig(
        dataset=args.dataset,
        source=SourceOptions(tuple(args.annotations), args.videos, args.durations, args.split),
        out=args.out.rstrip("/") or "/",
        frames=not args.no_frames,
        policy=RepairPolicy(clip_tolerance_s=args.clip_tolerance),
        frame_policy=frame_policy,
        video_timeout_s=args.video_timeout,
        videos_per_part=args.videos_per_part,
        label_shards=args.label_shards,
        decode_workers=args.decode_workers,
        image_threads=args.image_threads,
        only_present_videos=args.only_present_videos,
        allow_large=args.allow_large,
    )
    progress.reset()
    try:
        with ticking(_progress, enabled=not args.dry_run):
            result = run_ingest(
                cfg, getattr(args, "extra", []), runner=args.runner, dry_run=args.dry_run,
                overwrite=args.overwrite, resume=args.resume,
            )
    except IngestError as err:
        raise UserError(str(err)) from None
    except storage.EnvironmentFailure as err:
        print(f"vrft ingest: error: {err} (the machine, not the data: no record was rejected for it and no "
              "manifest.json was written; fix it, then finish the run with --resume)", file=sys.stderr)
        return 1
    if args.dry_run:
        print_dry_run(f"{args.dataset} -> {cfg.out} on {args.runner}", result.options, result.plan)
        return 0
    _summary(result)
    if args.no_validate:
        return 0
    return validate_output(result.out)


def validate_output(out: str) -> int:
    """`vrft validate OUT` on what was just written: 1 when the dataset fails its checks."""
    if storage.is_remote(out):
        print(f"note: {out} is remote; run `vrft validate` on a local copy to check it")
        return 0
    from pipelines.outputs import locked
    from pipelines.validate import validate_dataset  # pandas and Great Expectations: loaded to validate only

    with locked(out, "validate"):
        result = validate_dataset(out)
    print_result(result)
    return 0 if result.success else 1
