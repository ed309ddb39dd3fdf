"""TimeZero's Charades JSON (charades_train.json, charades_test.json) and its OOD file
(charades_test_ood.json, with `video_duration` and `framestamps`): the grouped grounding JSON."""

from __future__ import annotations

from typing import Iterator

from pipelines.sources import grouped_grounding
from pipelines.sources.base import Adapter, Draft, RawRecord, SourceOptions, read_json_file
from pipelines.sources.registry import register_adapter

NAME = "timezero"


def read(opts: SourceOptions) -> Iterator[RawRecord]:
    for path in opts.annotations:
        yield from grouped_grounding.records(read_json_file(path), NAME, path, opts.split)


def draft(rec: RawRecord) -> Draft:
    return grouped_grounding.draft(rec)


ADAPTER = register_adapter(Adapter(NAME, read, draft, __doc__ or ""))
