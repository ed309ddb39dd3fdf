"""Charades-STA: `VID start end##sentence` per line (the TALL format).

Durations are not in the file: they come from `--durations` (charades.json from VSLNet, or the
Charades_v1 csv with its `length` column) or, without one, from probing the video.
"""

from __future__ import annotations

import csv
import io
import os
from typing import Iterator

from pipelines import storage
from pipelines.sources.base import (
    Adapter, Draft, RawRecord, Rejected, SourceOptions, split_from_name, text_lines,
)
from pipelines.sources.registry import register_adapter
from pipelines.video.media import VideoFile

NAME = "charades-sta"


def load_durations(path: str) -> dict[str, float]:
    """Per-video seconds from charades.json ({vid: {duration}} or {vid: seconds}) or a csv (id + length)."""
    if path.lower().endswith(".csv"):
        out: dict[str, float] = {}
        for row in csv.DictReader(io.StringIO(storage.read_text(path))):
            vid = row.get("id") or row.get("video_id") or row.get("video")
            secs = row.get("length") or row.get("duration")
            if vid and secs not in (None, ""):
                out[vid.strip()] = float(secs)
        return out
    data = storage.read_json(path)
    return {
        vid: float(v["duration"] if isinstance(v, dict) else v)
        for vid, v in data.items()
        if (v.get("duration") if isinstance(v, dict) else v) is not None
    }


def read(opts: SourceOptions) -> Iterator[RawRecord]:
    durations = load_durations(opts.durations) if opts.durations else {}
    for path in opts.annotations:
        split = split_from_name(path, opts.split)
        for number, line in text_lines(path):
            if not line.strip():
                continue  # blank lines are not records
            vid = line.split("##", 1)[0].split(" ", 1)[0].strip()
            yield RawRecord(
                dataset=NAME,
                source_file=os.path.basename(path),
                source_key=f"line {number}",
                raw={"line": line},
                context={"duration": durations.get(vid)},
                split=split,
            )


def draft(rec: RawRecord) -> Draft:
    line = rec.raw["line"]
    head, sep, sentence = line.partition("##")
    parts = head.split()
    if not sep or len(parts) != 3:
        raise Rejected("line_malformed", f"expected 'VID start end##sentence', got {line[:80]!r}")
    vid, start, end = parts
    try:
        span = {"start": float(start), "end": float(end)}
    except ValueError:
        raise Rejected("span_not_numeric", f"start={start!r} end={end!r}") from None
    return {
        "task": "temporal_grounding",
        "video_key": vid,
        "query": sentence,
        "duration": rec.context.get("duration"),
        "span": span,
        "media": VideoFile.of(vid),
    }


ADAPTER = register_adapter(Adapter(NAME, read, draft, __doc__ or ""))
