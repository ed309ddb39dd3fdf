"""NExT-GQA: QA csv (answer given as the option TEXT) + gsub json (evidence spans) + video-path map.

    val.csv      video_id,frame_count,width,height,question,answer,qid,type,a0..a4
    gsub_val.json {video_id: {duration, location: {qid: [[s, e], ...]}, fps}}
    map_vid_vidorID.json {video_id: "dir/video_id"}

Pass the csv files to --annotations; gsub_<split>.json and map_vid_vidorID.json are found next to
them unless given too. The answer text must match exactly one option (first exactly, else ignoring
case and spacing); none or several is a reject. A video's duration is the csv's frame_count over
gsub's fps (gsub's own `duration` is rounded to whole seconds: only a fallback).
"""

from __future__ import annotations

import csv
import os
from typing import Any, Callable, Iterator, Mapping

from pipelines import storage
from pipelines.sources.base import (
    Adapter, Draft, RawRecord, Rejected, SourceError, SourceOptions, check_readable, read_json_file, span_dict,
    split_from_name, text_lines,
)
from pipelines.sources.registry import register_adapter
from pipelines.video.media import VideoFile

NAME = "nextgqa"
OPTION_COLUMNS = ("a0", "a1", "a2", "a3", "a4")
MAP_NAME = "map_vid_vidorID.json"


def side_files(annotations: tuple[str, ...], kind: str) -> list[str]:
    """The side files of one kind ("gsub" or "map") named in --annotations."""
    return [p for p in annotations if kind in os.path.basename(p).lower() and p.lower().endswith(".json")]


def map_files(annotations: tuple[str, ...]) -> list[str]:
    """The map file given in --annotations, else the one next to the first csv that has one."""
    return (side_files(annotations, "map") or [
        p for p in (os.path.join(os.path.dirname(c), MAP_NAME) for c in annotations if c.endswith(".csv")) if storage.exists(p)
    ])[:1]


def load_map(annotations: tuple[str, ...]) -> dict[str, str]:
    """video id -> relative video path without extension, from the given or neighbouring map file."""
    return {str(k): str(v) for p in map_files(annotations) for k, v in json_object(p).items()}


def gsub_files(opts: SourceOptions, csv_path: str) -> list[str]:
    """The gsub files a csv's records are joined with: those given, else the csv's neighbour."""
    neighbour = neighbour_gsub(csv_path)
    return side_files(opts.annotations, "gsub") or ([neighbour] if storage.exists(neighbour) else [])


def found_side_files(opts: SourceOptions) -> list[str]:
    csvs = [p for p in opts.annotations if p.lower().endswith(".csv")]
    return list(dict.fromkeys([g for c in csvs for g in gsub_files(opts, c)] + map_files(opts.annotations)))


def json_object(path: str) -> dict[str, Any]:
    data = read_json_file(path)
    if not isinstance(data, dict):
        raise SourceError(f"{path}: expected a JSON object keyed by video id, got a {type(data).__name__}")
    return data


def neighbour_gsub(csv_path: str) -> str:
    return os.path.join(os.path.dirname(csv_path), f"gsub_{split_from_name(csv_path, None)}.json")


def missing_side_file(opts: SourceOptions, frames: bool) -> str | None:
    """Without gsub (the evidence spans) every record would be `evidence_missing`: say so before any work."""
    if side_files(opts.annotations, "gsub"):
        return None
    lost = [p for p in opts.annotations if p.lower().endswith(".csv") and not storage.exists(neighbour_gsub(p))]
    if not lost:
        return None
    return (f"nextgqa takes the evidence spans from gsub_<split>.json: {neighbour_gsub(lost[0])} not found; "
            "pass the gsub file in --annotations beside the csv")


def real_duration(row: Mapping[str, Any], entry: Mapping[str, Any]) -> Any:
    """frame_count / fps (the video's real length), else gsub's whole seconds."""
    try:
        frames, fps = float(row.get("frame_count") or ""), float(entry.get("fps") or "")
    except (TypeError, ValueError):
        return entry.get("duration")
    return frames / fps if frames > 0 and fps > 0 and frames / fps < float("inf") else entry.get("duration")


def csv_records(
    path: str, dataset: str, split: str | None, context: Callable[[dict[str, str]], dict[str, Any]]
) -> Iterator[RawRecord]:
    """One raw record per data row, keyed by its (last) line (the header is line 1), with joined
    context; streamed. A row on a line that is not UTF-8 or too long, or that the csv reader cannot
    parse, is that record's reject (its `context` says why)."""
    split = split_from_name(path, split)
    problems: dict[int, str] = {}

    def lines() -> Iterator[str]:
        for number, line, problem in text_lines(path):
            if problem:
                if number == 1:
                    raise SourceError(f"{path}: its header line is {problem.replace('line_', '').replace('_', ' ')}")
                problems[number] = problem
            yield line + "\n"

    reader = csv.DictReader(lines())
    last = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            bad: dict[str, Any] = {"reason": "csv_malformed", "detail": str(err)[:200]}
            row = {}
        else:
            found = [problems.pop(n) for n in range(last + 1, reader.line_num + 1) if n in problems]
            bad = {"reason": found[0], "detail": f"line {reader.line_num}"} if found else {}
            row = {str(k): v if isinstance(v, str) or v is None else str(v) for k, v in row.items()}
        last = reader.line_num
        yield RawRecord(dataset, os.path.basename(path), f"line {reader.line_num}", row, split, bad or context(row))


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
    for path in (p for p in opts.annotations if p.lower().endswith(".csv")):
        gsub: dict[str, Any] = {}
        for g in gsub_files(opts, path):
            gsub.update(json_object(g))

        def joined(row: dict[str, str], gsub: dict[str, Any] = gsub) -> dict[str, Any]:
            entry = gsub.get(row.get("video_id", ""))
            entry = entry if isinstance(entry, dict) else {}
            location = entry.get("location")
            return {
                "duration": real_duration(row, entry),
                "spans": location.get(str(row.get("qid"))) if isinstance(location, dict) else None,
                "video_path": video_paths.get(row.get("video_id", "")),
            }

        yield from csv_records(path, NAME, opts.split, joined)


def draft(rec: RawRecord) -> Draft:
    check_readable(rec)
    row, ctx = rec.raw, rec.context
    choices = options(row)
    spans = ctx.get("spans")
    if not spans or not isinstance(spans, list):
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


ADAPTER = register_adapter(Adapter(NAME, read, draft, __doc__ or "", shape="lines", missing=missing_side_file, side_files=found_side_files))
