"""Video-R1's QA JSON: a list of {video: [path] | path, problem_type, problem, options ["A. ...", ...],
solution "<answer>A</answer>", data_type}.

Multiple choice on a video becomes `video_qa`. The other problem types (free-form, numerical, OCR,
regression) have no declared task: they are rejected as `problem_type_undeclared`, and image items
as `not_a_video`. Media paths are looked up under --videos as given, then by file name.
"""

from __future__ import annotations

import os
from typing import Any, Iterator

from pipelines.sources.base import Adapter, Draft, RawRecord, Rejected, SourceOptions, read_json_file, split_from_name
from pipelines.video.media import VideoFile
from pipelines.sources.letters import letter_index, strip_letters
from pipelines.sources.registry import register_adapter

NAME = "video-r1"
TASK_OF_PROBLEM_TYPE = {"multiple choice": "video_qa"}


def read(opts: SourceOptions) -> Iterator[RawRecord]:
    for path in opts.annotations:
        data = read_json_file(path)
        for i, item in enumerate(data if isinstance(data, list) else [data]):
            yield RawRecord(NAME, os.path.basename(path), f"[{i}]", item, split_from_name(path, opts.split))


def _first(value: Any) -> str:
    if isinstance(value, list):
        return str(value[0]) if value else ""
    return str(value or "")


def draft(rec: RawRecord) -> Draft:
    item = rec.raw
    if not isinstance(item, dict):
        raise Rejected("record_format_unknown", f"expected an object, got {type(item).__name__}")
    kind = str(item.get("problem_type", ""))
    task = TASK_OF_PROBLEM_TYPE.get(kind.strip().lower())
    if task is None:
        raise Rejected("problem_type_undeclared", f"no task is declared for problem type {kind!r}")
    video = _first(item.get("video"))
    if item.get("data_type", "video") != "video" or not video:
        raise Rejected("not_a_video", f"data_type {item.get('data_type')!r}")
    choices = strip_letters(list(item.get("options") or []))
    key = os.path.splitext(os.path.basename(video))[0]
    return {
        "task": task,
        "video_key": key,
        "query": item.get("problem"),
        "choices": choices,
        "answer_index": letter_index(str(item.get("solution", "")), len(choices)),
        "media": VideoFile.of(video, key),
    }


ADAPTER = register_adapter(Adapter(NAME, read, draft, __doc__ or ""))
