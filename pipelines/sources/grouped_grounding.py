"""The grouped grounding JSON shared by ActivityNet Captions, TimeZero and VideoChat-R1:

    {VID: {"duration": s, "timestamps": [[s, e], ...], "sentences": [...]}}

TimeZero's OOD file names the duration `video_duration` (and adds `framestamps` at `decode_fps`,
which we do not need: `timestamps` are already seconds). One record per sentence, keyed `VID#i`.
"""

from __future__ import annotations

import os
from typing import Any, Iterator, Mapping

from pipelines.sources.base import Draft, RawRecord, Rejected, SourceError, span_dict, split_from_name
from pipelines.video.media import VideoFile

DURATION_KEYS = ("duration", "video_duration")


def is_grouped(data: Any) -> bool:
    """True for {VID: {timestamps, sentences, ...}} (what this module reads)."""
    if not isinstance(data, Mapping) or not data:
        return False
    first = next(iter(data.values()))
    return isinstance(first, Mapping) and "sentences" in first and "timestamps" in first


def records(data: Mapping[str, Any], dataset: str, path: str, split: str | None) -> Iterator[RawRecord]:
    """One raw record per sentence; a sentence without a timestamp (or the reverse) is still a record."""
    if not isinstance(data, Mapping):
        raise SourceError(f"{path}: expected {{video id: {{timestamps, sentences}}}}, got a JSON {type(data).__name__}")
    split = split_from_name(path, split)
    for vid, entry in data.items():
        entry = entry if isinstance(entry, Mapping) else {}
        stamps = entry.get("timestamps") if isinstance(entry.get("timestamps"), list) else []
        sentences = entry.get("sentences") if isinstance(entry.get("sentences"), list) else []
        duration = next((entry[k] for k in DURATION_KEYS if k in entry), None)
        for i in range(max(len(stamps), len(sentences), 1)):
            yield RawRecord(
                dataset=dataset,
                source_file=os.path.basename(path),
                source_key=f"{vid}#{i}",
                raw={
                    "video": vid,
                    "duration": duration,
                    "timestamp": stamps[i] if i < len(stamps) else None,
                    "sentence": sentences[i] if i < len(sentences) else None,
                },
                split=split,
            )


def draft(rec: RawRecord, *video_hints: str) -> Draft:
    raw = rec.raw
    if raw["timestamp"] is None or raw["sentence"] is None:
        raise Rejected("sentence_timestamp_mismatch", "the video has unequal numbers of sentences and timestamps")
    if not isinstance(raw["sentence"], str):
        raise Rejected("query_missing", f"sentence {raw['sentence']!r}")
    vid = raw["video"]
    return {
        "task": "temporal_grounding",
        "video_key": vid,
        "query": raw["sentence"],
        "duration": raw["duration"],
        "span": span_dict(raw["timestamp"]),
        "media": VideoFile.of(*(video_hints or (vid,))),
    }
