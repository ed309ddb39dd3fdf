"""`vrft show DIR SAMPLE_ID --out sample.png`: a sample's frames, truth and question as one picture.
`vrft show DIR --list`: the samples DIR holds (id, task, video, query), to find an id."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from vrft.errors import UserError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "show",
        help="render a sample's frames, timestamps, spans, boxes and question as a PNG",
        description="Render one sample as a contact sheet: frames with their timestamps, the ground-truth span "
        "on a timeline, boxes on their frames, and the question, options and answer. DIR is an ingestion "
        "folder (samples/ + videos/) or a folder of training shards.",
    )
    p.add_argument("dir", type=Path, help="ingestion output folder or training shard folder")
    p.add_argument("sample_id", nargs="?", help="the sample's id (`--list` lists them)")
    p.add_argument("--list", action="store_true",
                   help="list the samples instead: id, task, video and the start of the query, one per line "
                   "(pipe it to grep or head)")
    p.add_argument("--out", type=Path, default=None, help="PNG to write (default: SAMPLE_ID.png)")
    p.set_defaults(func=run)


QUERY_SHOWN = 60  # characters of the query in a --list line


def run(args: argparse.Namespace) -> int:
    if args.list:
        if args.sample_id:
            raise UserError("give a SAMPLE_ID to draw it, or --list to list the ids, not both")
        return list_ids(args.dir)
    if not args.sample_id:
        raise UserError("which sample? give its SAMPLE_ID (`vrft show DIR --list` lists them)")
    # pyarrow.dataset and matplotlib take about a second to import: only when a sample is drawn
    import pyarrow as pa

    from pipelines.ingested import Ingested, NotIngested
    from pipelines.sample_sheet import SampleNotFound, load_sample, render_sample
    from schemas import FrameError

    if not args.dir.exists():
        raise UserError(f"no such folder: {args.dir}")
    try:
        if (args.dir / "samples").is_dir():
            Ingested.open(str(args.dir), finished=False)  # files that all open, or a message naming the one that does not
        sample, frames = load_sample(args.dir, args.sample_id)
    except (SampleNotFound, NotIngested) as err:
        raise UserError(str(err)) from None
    except FrameError as err:
        raise UserError(f"sample {args.sample_id} in {args.dir}: {err}") from None
    except (pa.ArrowException, OSError) as err:
        raise UserError(f"{args.dir}: a Parquet file cannot be read ({str(err).splitlines()[0]})") from None
    out = render_sample(sample, frames, args.out or Path(f"{args.sample_id}.png"))
    print(f"wrote {out} ({len(frames['frames'])} frames)")
    return 0


def list_ids(folder: Path) -> int:
    """Print one aligned line per sample to stdout (the count to stderr, so a pipe gets only the lines)."""
    from pipelines.sample_list import list_samples

    if not folder.exists():
        raise UserError(f"no such folder: {folder}")
    try:
        entries = list(list_samples(folder))
    except FileNotFoundError as err:
        raise UserError(str(err)) from None
    w_id = max([len("sample_id")] + [len(e.sample_id) for e in entries])
    w_task = max([len("task")] + [len(e.task) for e in entries])
    w_video = max([len("video")] + [len(e.video_key) for e in entries])
    lines = [f"{'sample_id':<{w_id}}  {'task':<{w_task}}  {'video':<{w_video}}  query"]
    for e in entries:
        query = " ".join(e.query.split())
        query = query if len(query) <= QUERY_SHOWN else query[: QUERY_SHOWN - 1] + "…"
        lines.append(f"{e.sample_id:<{w_id}}  {e.task:<{w_task}}  {e.video_key:<{w_video}}  {query}")
    try:
        sys.stdout.write("\n".join(lines) + "\n")
        sys.stdout.flush()
    except BrokenPipeError:  # `| head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    print(f"{len(entries)} samples in {folder}", file=sys.stderr)
    return 0
