"""Charades-STA: `VID start end##sentence` per line (the TALL format).

Durations are not in the file: they come from `--durations` (charades.json from VSLNet, or the
Charades_v1 csv with its `length` column) or, without one, from probing the video.
"""

from __future__ import annotations

import csv
import io
import os
from functools import lru_cache
from typing import Iterator

from pipelines import storage
from pipelines.sources.base import (
    Adapter, Draft, RawRecord, Rejected, SourceError, SourceOptions, check_readable, line_problem, read_json_file,
    split_from_name, text_lines,
)
from pipelines.sources.registry import register_adapter
from pipelines.video.media import VideoFile

NAME = "charades-sta"


def _seconds(value: object) -> float | None:
    """A duration as given (a number or numeric text); anything else is no duration (the record's
    `duration_missing` reject then says so), never the whole file's failure."""
    try:
        return float(value) if value not in (None, "") else None  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


@lru_cache(maxsize=4)
def load_durations(path: str) -> dict[str, float]:
    """Per-video seconds from charades.json ({vid: {duration}} or {vid: seconds}) or a csv (id + length)."""
    if path.lower().endswith(".csv"):
        try:
            rows = list(csv.DictReader(io.StringIO(storage.read_text(path))))
        except (UnicodeDecodeError, csv.Error) as err:
            raise SourceError(f"{path} is not a readable csv: {err}") from None
        pairs = [(row.get("id") or row.get("video_id") or row.get("video"), row.get("length") or row.get("duration"))
                 for row in rows]
    else:
        data = read_json_file(path)
        if not isinstance(data, dict):
            raise SourceError(f"{path}: expected {{video id: duration}}, got a JSON {type(data).__name__}")
        pairs = [(vid, v.get("duration") if isinstance(v, dict) else v) for vid, v in data.items()]
    return {str(vid).strip(): secs for vid, value in pairs if vid and (secs := _seconds(value)) is not None}


def read(opts: SourceOptions) -> Iterator[RawRecord]:
    durations = load_durations(opts.durations) if opts.durations else {}
    for path in opts.annotations:
        split = split_from_name(path, opts.split)
        for number, line, problem in text_lines(path):
            if not line.strip() and not problem:
                continue  # blank lines are not records
            vid = line.split("##", 1)[0].split(" ", 1)[0].strip()
            yield RawRecord(
                dataset=NAME,
                source_file=os.path.basename(path),
                source_key=f"line {number}",
                raw={"line": line},
                context=line_problem(problem, number) if problem else {"duration": durations.get(vid)},
                split=split,
            )


def draft(rec: RawRecord) -> Draft:
    check_readable(rec)
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


def missing_durations(opts: SourceOptions, frames: bool) -> str | None:
    """Charades-STA lines carry no durations: without a side file or the videos, every record would be
    `duration_missing`."""
    if opts.durations or opts.videos:
        return None
    return ("charades-sta lines carry no video durations: pass --durations charades.json (or the Charades_v1 "
            "csv with its `length` column), or --videos to read them from the videos")


ADAPTER = register_adapter(Adapter(NAME, read, draft, __doc__ or "", shape="lines", missing=missing_durations))
