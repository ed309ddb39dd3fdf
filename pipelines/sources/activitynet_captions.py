"""ActivityNet Captions (train.json, val_1.json, val_2.json): the grouped grounding JSON.

Video ids carry a `v_` prefix; downloaded files are named with or without it.
"""

from __future__ import annotations

from typing import Iterator

from pipelines.sources import grouped_grounding
from pipelines.sources.base import Adapter, Draft, RawRecord, SourceOptions, read_json_file
from pipelines.sources.registry import register_adapter

NAME = "activitynet-captions"


def read(opts: SourceOptions) -> Iterator[RawRecord]:
    for path in opts.annotations:
        yield from grouped_grounding.records(read_json_file(path), NAME, path, opts.split)


def draft(rec: RawRecord) -> Draft:
    vid = rec.raw["video"]
    return grouped_grounding.draft(rec, vid, vid[2:] if vid.startswith("v_") else vid)


ADAPTER = register_adapter(Adapter(NAME, read, draft, __doc__ or ""))
