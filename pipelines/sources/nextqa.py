"""NExT-QA: csv `video,frame_count,width,height,question,answer,qid,type,a0..a4`, answer = option INDEX.

Video paths come from NExT-QA's map_vid_vidorID.json when given in --annotations or found next to
the csv; otherwise the video id is looked up under --videos.
"""

from __future__ import annotations

from typing import Iterator

from pipelines.sources.base import Adapter, Draft, RawRecord, Rejected, SourceOptions, check_readable
from pipelines.video.media import VideoFile
from pipelines.sources.nextgqa import csv_records, load_map, map_files, options
from pipelines.sources.registry import register_adapter

NAME = "nextqa"


def read(opts: SourceOptions) -> Iterator[RawRecord]:
    video_paths = load_map(opts.annotations)
    for path in (p for p in opts.annotations if p.lower().endswith(".csv")):
        yield from csv_records(path, NAME, opts.split, lambda row: {"video_path": video_paths.get(row.get("video", ""))})


def draft(rec: RawRecord) -> Draft:
    check_readable(rec)
    row = rec.raw
    answer = (row.get("answer") or "").strip()
    if not answer.isdigit():
        raise Rejected("answer_index_missing", f"answer {row.get('answer')!r} is not an option index")
    vid = row.get("video", "")
    return {
        "task": "video_qa",
        "video_key": vid,
        "query": row.get("question"),
        "choices": options(row),
        "answer_index": int(answer),
        "media": VideoFile.of(rec.context.get("video_path") or "", vid),
    }


def found_maps(opts: SourceOptions) -> list[str]:
    return map_files(opts.annotations)


ADAPTER = register_adapter(Adapter(NAME, read, draft, __doc__ or "", shape="lines", side_files=found_maps))
