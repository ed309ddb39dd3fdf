"""`vrft show DIR SAMPLE_ID --out sample.png`: a sample's frames, truth and question as one picture."""

from __future__ import annotations

import argparse
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
    p.add_argument("sample_id", help="the sample's id (see the sample_id column)")
    p.add_argument("--out", type=Path, default=None, help="PNG to write (default: SAMPLE_ID.png)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
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
