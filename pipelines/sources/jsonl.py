"""Records already in vrft's normalized form, one JSON object per line.

Fields are the `samples` columns (task, video_key, query, duration, span {start, end}, spans,
choices, answer_index, boxes [{t, x0, y0, x1, y1}], split, dataset, sample_id) plus optional
`video`: the media path relative to --videos (default: the video key). Unknown columns are
rejected (`column_unknown`) rather than silently dropped; the normal checks and repairs apply.
"""

from __future__ import annotations

import os
from typing import Iterator

import schemas
from pipelines.sources.base import (
    Adapter, Draft, RawRecord, Rejected, SourceOptions, check_readable, line_problem, parse_json_record, split_from_name,
    text_lines, unreadable,
)
from pipelines.sources.registry import register_adapter
from pipelines.video.media import VideoFile

NAME = "jsonl"
EXTRA_FIELDS = ("video",)


def read(opts: SourceOptions) -> Iterator[RawRecord]:
    for path in opts.annotations:
        split = split_from_name(path, opts.split)
        for number, line, problem in text_lines(path):
            if not line.strip() and not problem:
                continue
            record, context = {"line": line}, line_problem(problem, number) if problem else {}
            if not problem:
                try:
                    record = parse_json_record(line)
                except Rejected as bad:  # kept as the line it was, rejected when drafted
                    context = unreadable(bad.reason, bad.detail)
            yield RawRecord(NAME, os.path.basename(path), f"line {number}", record, split, context)


def draft(rec: RawRecord) -> Draft:
    check_readable(rec)
    item = rec.raw
    if not isinstance(item, dict):
        raise Rejected("record_format_unknown", f"expected an object, got {type(item).__name__}")
    known = set(schemas.samples_schema().names) | set(EXTRA_FIELDS)
    unknown = sorted(set(item) - known)
    if unknown:
        raise Rejected("column_unknown", f"columns {unknown} are not samples columns")
    out: Draft = {k: v for k, v in item.items() if k not in EXTRA_FIELDS}
    key = str(item.get("video_key") or "")
    out["media"] = VideoFile.of(str(item.get("video") or ""), key)
    return out


ADAPTER = register_adapter(Adapter(NAME, read, draft, __doc__ or "", shape="lines"))
