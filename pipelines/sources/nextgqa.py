"""NExT-GQA: QA csv (answer given as the option TEXT) + gsub json (evidence spans) + video-path map.

    val.csv      video_id,frame_count,width,height,question,answer,qid,type,a0..a4
    gsub_val.json {video_id: {duration, location: {qid: [[s, e], ...]}, fps}}
    map_vid_vidorID.json {video_id: "dir/video_id"}

Pass the csv files to --annotations; gsub_<split>.json and map_vid_vidorID.json are found next to
them unless given too. The answer text must match exactly one option (first exactly, else ignoring
case and spacing); none or several is a reject. Durations in gsub are whole seconds.
"""

from __future__ import annotations

import csv
import io
import os
from typing import Any, Callable, Iterator, Mapping

from pipelines import storage
from pipelines.sources.base import (
    Adapter, Draft, RawRecord, Rejected, SourceOptions, span_dict, split_from_name,
)
from pipelines.sources.registry import register_adapter
from pipelines.video.media import VideoFile

NAME = "nextgqa"
OPTION_COLUMNS = ("a0", "a1", "a2", "a3", "a4")
MAP_NAME = "map_vid_vidorID.json"


def side_files(annotations: tuple[str, ...], kind: str) -> list[str]:
    """The side files of one kind ("gsub" or "map") named in --annotations."""
    return [p for p in annotations if kind in os.path.basename(p).lower() and p.lower().endswith(".json")]


def load_map(annotations: tuple[str, ...]) -> dict[str, str]:
    """video id -> relative video path without extension, from the given or neighbouring map file."""
    paths = side_files(annotations, "map") or [
        p for p in (os.path.join(os.path.dirname(c), MAP_NAME) for c in annotations if c.endswith(".csv")) if storage.exists(p)
    ]
    return {str(k): str(v) for p in paths[:1] for k, v in storage.read_json(p).items()}


def csv_records(
    path: str, dataset: str, split: str | None, context: Callable[[dict[str, str]], dict[str, Any]]
) -> Iterator[RawRecord]:
    """One raw record per data row, keyed by its line (the header is line 1), with joined context."""
    split = split_from_name(path, split)
    reader = csv.DictReader(io.StringIO(storage.read_text(path)))
    for row in reader:
        row = dict(row)
        yield RawRecord(dataset, os.path.basename(path), f"line {reader.line_num}", row, split, context(row))


def options(row: Mapping[str, Any]) -> list[str]:
    return [row.get(c) or "" for c in OPTION_COLUMNS if c in row]


def answer_index(answer: str, choices: list[str]) -> int:
    """The one option whose text is the answer: exact first, else ignoring case and spacing."""
    hits = [i for i, c in enumerate(choices) if c == answer]
    if not hits:
        key = " ".join(answer.split()).casefold()
        hits = [i for i, c in enumerate(choices) if " ".join(c.split()).casefold() == key]
    if not hits:
        raise Rejected("answer_not_in_options", f"answer {answer!r} is none of {choices}")
    if len(hits) > 1:
        raise Rejected("answer_ambiguous", f"answer {answer!r} matches options {hits}")
    return hits[0]


def read(opts: SourceOptions) -> Iterator[RawRecord]:
    video_paths = load_map(opts.annotations)
    given_gsub = side_files(opts.annotations, "gsub")
    for path in (p for p in opts.annotations if p.lower().endswith(".csv")):
        neighbour = os.path.join(os.path.dirname(path), f"gsub_{split_from_name(path, None)}.json")
        gsub: dict[str, Any] = {}
        for g in given_gsub or ([neighbour] if storage.exists(neighbour) else []):
            gsub.update(storage.read_json(g))

        def joined(row: dict[str, str], gsub: dict[str, Any] = gsub) -> dict[str, Any]:
            entry = gsub.get(row.get("video_id", "")) or {}
            return {
                "duration": entry.get("duration"),
                "spans": (entry.get("location") or {}).get(str(row.get("qid"))),
                "video_path": video_paths.get(row.get("video_id", "")),
            }

        yield from csv_records(path, NAME, opts.split, joined)


def draft(rec: RawRecord) -> Draft:
    row, ctx = rec.raw, rec.context
    choices = options(row)
    spans = ctx.get("spans")
    if not spans:
        raise Rejected("evidence_missing", f"no evidence spans for video {row.get('video_id')} question {row.get('qid')}")
    vid = row.get("video_id", "")
    return {
        "task": "grounded_qa",
        "video_key": vid,
        "query": row.get("question"),
        "duration": ctx.get("duration"),
        "choices": choices,
        "answer_index": answer_index(row.get("answer") or "", choices),
        "spans": [span_dict(s) for s in spans],
        "media": VideoFile.of(ctx.get("video_path") or "", vid),
    }


ADAPTER = register_adapter(Adapter(NAME, read, draft, __doc__ or ""))
