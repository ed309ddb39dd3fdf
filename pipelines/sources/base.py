"""What every adapter shares: the raw record, the draft it becomes, the reject, and line reading.

An adapter reads one raw format (files through `pipelines.storage`, so local paths and URLs alike).
`read(options)` yields `RawRecord`s (the record as found, joined with the side files it needs, plus
where it came from); `draft(record)` turns one into a draft row: the `samples` columns it knows (task,
video_key, query, labels, duration) and where its pixels are (`media`: a `pipelines.video.media`
`VideoFile` or `ImageSequence`). Drafting is pure, so it runs in parallel; everything generic
(whitespace, repairs, ids, checks) happens later in `pipelines.normalize`. A record that cannot be
drafted raises `Rejected`.
"""

from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping

from pipelines import storage

Draft = dict[str, Any]


class Rejected(Exception):
    """A record that will not be written; `reason` is a snake_case code counted in the manifest."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class SourceOptions:
    """Where the raw files are; what `vrft ingest` was told."""

    annotations: tuple[str, ...]
    videos: str | None = None        # folder the media paths are relative to
    durations: str | None = None     # a side file of per-video durations (charades.json, Charades_v1 csv)
    split: str | None = None         # overrides the split guessed from the file name


@dataclass(frozen=True)
class RawRecord:
    dataset: str
    source_file: str                 # base name of the file the record came from
    source_key: str                  # "line 17", "v_abc#2", "[41]": where in that file
    raw: Mapping[str, Any]           # the record as found (JSON-able); its hash is the sample id
    split: str | None = None
    context: Mapping[str, Any] = field(default_factory=dict)  # what side files joined to it (durations, spans)

    def raw_json(self) -> str:
        """The record for the dead letter: as found, plus what was joined to it."""
        body = {"record": self.raw, "joined": self.context} if self.context else {"record": self.raw}
        return json.dumps(body, sort_keys=True, ensure_ascii=False, default=str)


@dataclass(frozen=True)
class Adapter:
    name: str
    read: Callable[[SourceOptions], Iterator[RawRecord]]
    draft: Callable[[RawRecord], Draft]
    doc: str = ""
    # Frames come from files under --videos (False: the annotations hold them, as GOT-10k folders do).
    needs_videos: bool = True


def text_lines(path: str) -> Iterator[tuple[int, str]]:
    """(1-based line number, line without its newline) for every line (local or remote)."""
    for i, line in enumerate(io.StringIO(storage.read_text(path)), start=1):
        yield i, line.rstrip("\r\n")


def split_from_name(path: str, override: str | None, known: tuple[str, ...] = ("train", "val", "test")) -> str:
    """The split: the override, else a known split word in the file name, else the file's stem."""
    if override:
        return override
    stem = os.path.splitext(os.path.basename(path.rstrip("/")))[0]
    words = stem.replace("-", "_").split("_")
    for i in range(len(words) - 1, -1, -1):
        if words[i] in known:
            return "_".join(words[i:])  # "val_2" and "test_ood" stay whole
    return stem


def require_number(value: Any, what: str) -> float:
    """A finite float, or a reject naming what was not a number."""
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise Rejected(f"{what}_not_numeric", f"{what}={value!r}") from None
    if out != out or out in (float("inf"), float("-inf")):
        raise Rejected(f"{what}_not_numeric", f"{what}={value!r}")
    return out


def span_dict(pair: Any, what: str = "span") -> dict[str, float]:
    """[start, end] -> {start, end} (numbers only; range checks come later)."""
    if not isinstance(pair, (list, tuple)) or len(pair) != 2:
        raise Rejected(f"{what}_malformed", f"expected [start, end], got {pair!r}")
    return {"start": require_number(pair[0], what), "end": require_number(pair[1], what)}
