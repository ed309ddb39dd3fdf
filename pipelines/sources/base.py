"""What every adapter shares: the raw record, the draft it becomes, the reject, and file access.

An adapter reads one raw format. `read(options)` yields `RawRecord`s (the record as found, joined with
the side files it needs, plus where it came from); `draft(record)` turns one into a draft row: the
`samples` columns it knows (task, video_key, query, labels, duration) and where its pixels are
(`media`). Drafting is pure, so it runs in parallel; everything generic (whitespace, repairs, ids,
checks) happens later in `pipelines.normalize`. A record that cannot be drafted raises `Rejected`.
"""

from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping

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


# ---- media references: how a draft says where its pixels are ------------------------------------

VIDEO_EXTENSIONS = (".mp4", ".webm", ".mkv", ".avi", ".mov", ".m4v")


def video_media(*hints: str) -> dict[str, Any]:
    """A video file, found under --videos by the first hint that exists (see `resolve_video`)."""
    return {"kind": "video", "hints": [h for h in hints if h]}


def image_media(paths: list[str], timestamps: list[float], fps: float, frame_count: int) -> dict[str, Any]:
    """Frames of an image sequence (GOT-10k) shown at these times; the whole sequence has
    `frame_count` images at `fps`."""
    return {"kind": "images", "paths": list(paths), "timestamps": list(timestamps), "fps": fps,
            "frame_count": frame_count}


def resolve_video(videos_dir: str | None, hints: list[str]) -> str | None:
    """The first existing file among the hints: as given, with a video extension, then by base name."""
    if not videos_dir:
        return None
    tries: list[str] = []
    for hint in hints:
        rel = hint[2:] if hint.startswith("./") else hint
        names = (os.path.basename(rel),) if os.path.isabs(rel) else (rel, os.path.basename(rel))
        for name in names:
            stem, ext = os.path.splitext(name)
            tries.append(name)
            if ext.lower() not in VIDEO_EXTENSIONS:
                tries.extend(name + e for e in VIDEO_EXTENSIONS)
    for rel in dict.fromkeys(tries):
        path = os.path.join(videos_dir, rel)
        if exists(path):
            return path
    return None


# ---- file access: local paths or any Beam filesystem (gs://...) -----------------------------------


def _is_remote(path: str) -> bool:
    return "://" in path


def exists(path: str) -> bool:
    if not _is_remote(path):
        return os.path.exists(path)
    from apache_beam.io.filesystems import FileSystems

    return FileSystems.exists(path)


def open_binary(path: str) -> Any:
    """A readable binary file object (local or remote)."""
    if not _is_remote(path):
        return open(path, "rb")
    from apache_beam.io.filesystems import FileSystems

    return FileSystems.open(path)


def read_bytes(path: str) -> bytes:
    if not _is_remote(path):
        with open(path, "rb") as f:
            return f.read()
    from apache_beam.io.filesystems import FileSystems

    with FileSystems.open(path) as f:
        return f.read()


def read_text(path: str) -> str:
    return read_bytes(path).decode("utf-8-sig")


def read_json(path: str) -> Any:
    return json.loads(read_text(path))


def text_lines(path: str) -> Iterator[tuple[int, str]]:
    """(1-based line number, line without its newline) for every line."""
    for i, line in enumerate(io.StringIO(read_text(path)), start=1):
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
