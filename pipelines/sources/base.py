"""What every adapter shares: the raw record, the draft it becomes, the reject, and line reading.

An adapter reads one raw format (files through `pipelines.storage`, so local paths and URLs alike).
`read(options)` yields `RawRecord`s (the record as found, joined with the side files it needs, plus
where it came from); `draft(record)` turns one into a draft row: the `samples` columns it knows (task,
video_key, query, labels, duration) and where its pixels are (`media`: a `pipelines.video.media`
`VideoFile` or `ImageSequence`). Drafting is pure, so it runs in parallel; everything generic
(whitespace, repairs, ids, checks) happens later in `pipelines.normalize`. A record that cannot be
drafted raises `Rejected`.

Reading is bounded and isolated: line formats stream (one line in memory, at most `MAX_LINE_BYTES`),
and a line that is not UTF-8, too long or too deeply nested becomes that record's reject, never the
file's end. A file that cannot be read as the format at all (binary, UTF-16, truncated JSON, a folder
where a file belongs) raises `SourceError` naming the file: one message, before or instead of work.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping

from pipelines import storage

Draft = dict[str, Any]
MAX_LINE_BYTES = 1 << 20          # a longer line is one record's reject (`line_too_long`), read past, not kept
MAX_JSON_DEPTH = 64               # deeper nesting in one record is its reject (`json_too_deep`)
SHOWN_CHARS = 2000                # what a reject keeps of a line too long or not UTF-8
SNIFF_BYTES = 64 << 10
BOMS = {b"\xff\xfe\x00\x00": "UTF-32", b"\x00\x00\xfe\xff": "UTF-32", b"\xff\xfe": "UTF-16", b"\xfe\xff": "UTF-16"}


class SourceError(ValueError):
    """A whole input file cannot be read as its format (a user mistake: the message names the file).

    One message argument only, so Beam can re-raise it with its step name appended and keep the type."""

    def __init__(self, message: str) -> None:
        super().__init__(message)


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


def nothing_missing(opts: SourceOptions, frames: bool) -> str | None:
    return None


def no_side_files(opts: SourceOptions) -> list[str]:
    return []


@dataclass(frozen=True)
class Adapter:
    name: str
    read: Callable[[SourceOptions], Iterator[RawRecord]]
    draft: Callable[[RawRecord], Draft]
    doc: str = ""
    # Frames come from files under --videos (False: the annotations hold them, as GOT-10k folders do).
    needs_videos: bool = True
    # How --annotations are laid out: "lines" (a record per line, streamed), "json" (one document
    # holding every record, parsed whole) or "folder" (GOT-10k split folders).
    shape: str = "json"
    # What to tell the user, before any work, when the options lack a side file every record needs.
    missing: Callable[[SourceOptions, bool], str | None] = nothing_missing
    # Files beyond --annotations and --durations whose content makes the records (a --resume checks them).
    side_files: Callable[[SourceOptions], list[str]] = no_side_files


def sniff_text(path: str) -> None:
    """Refuse, naming the file, what is not UTF-8 text at all: a UTF-16/32 byte-order mark, or NUL bytes
    in the first 64 KiB (binary data, or UTF-16 without a mark)."""
    if storage.isdir(path):
        raise SourceError(f"{path} is a folder; give the annotation file")
    with storage.open_read(path) as f:
        head = f.read(SNIFF_BYTES)
    for bom, name in BOMS.items():
        if head.startswith(bom):
            raise SourceError(f"{path} is {name} text; vrft reads UTF-8 (convert it: iconv -f {name} -t UTF-8)")
    if b"\x00" in head:
        raise SourceError(f"{path} holds binary data (NUL bytes), not UTF-8 text")


def text_lines(path: str) -> Iterator[tuple[int, str, str | None]]:
    """(1-based line number, line without its newline, problem) for every line, streamed (local or
    remote). `problem` is None, `line_not_utf8` (the line shown with escapes) or `line_too_long` (its
    first `SHOWN_CHARS` characters shown; the rest is read past, never held)."""
    sniff_text(path)
    with storage.open_read(path) as f:
        number = 0
        while True:
            raw = f.readline(MAX_LINE_BYTES + 1)
            if not raw:
                return
            number += 1
            if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
                head = raw[:SHOWN_CHARS].decode("utf-8", "ignore")
                while raw and not raw.endswith(b"\n"):  # read past the rest, a buffer at a time
                    raw = f.readline(1 << 16)
                yield number, head, "line_too_long"
                continue
            try:
                yield number, raw.decode("utf-8").rstrip("\r\n"), None
            except UnicodeDecodeError:
                yield number, raw.decode("utf-8", "backslashreplace")[:SHOWN_CHARS].rstrip("\r\n"), "line_not_utf8"


def unreadable(reason: str, detail: str) -> dict[str, str]:
    """The `context` of a record that could not be read (its draft raises `Rejected(reason, detail)`)."""
    return {"reason": reason, "detail": detail}


def line_problem(problem: str, number: int) -> dict[str, str]:
    what = {"line_too_long": f"longer than {MAX_LINE_BYTES} bytes", "line_not_utf8": "not UTF-8"}.get(problem, problem)
    return unreadable(problem, f"line {number} is {what}")


def check_readable(rec: "RawRecord") -> None:
    """Reject a record its reader could not read (see `unreadable`)."""
    if "reason" in rec.context:
        raise Rejected(str(rec.context["reason"]), str(rec.context.get("detail", "")))


_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?', re.S)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def too_deep(text: str, limit: int) -> bool:
    """True when [ and { nest deeper than `limit` in a JSON text (strings skipped); linear time."""
    if text.count("[") + text.count("{") <= limit:
        return False
    import numpy as np

    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text)).encode()
    steps = np.frombuffer(brackets, dtype=np.uint8)
    depth = np.cumsum(np.where((steps == ord("[")) | (steps == ord("{")), 1, -1))
    return bool(len(depth)) and int(depth.max()) > limit


def parse_json_record(text: str) -> Any:
    """One record's JSON, or `Rejected` (`json_malformed`, `json_too_deep`)."""
    if too_deep(text, MAX_JSON_DEPTH):
        raise Rejected("json_too_deep", f"nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError) as err:
        raise Rejected("json_malformed", str(err)[:200]) from None


def read_json_file(path: str) -> Any:
    """A whole JSON file (a format whose records are inside one document), or a `SourceError` naming
    the file and the position where it stops being JSON."""
    if storage.isdir(path):
        raise SourceError(f"{path} is a folder; give the annotation file")
    sniff_text(path)
    try:
        text = storage.read_text(path)
    except UnicodeDecodeError as err:
        raise SourceError(f"{path} is not UTF-8 text (byte {err.start})") from None
    if too_deep(text, MAX_JSON_DEPTH + 8):
        raise SourceError(f"{path}: JSON nested deeper than {MAX_JSON_DEPTH + 8} levels")
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise SourceError(f"{path} is not JSON: {err.msg} at line {err.lineno} column {err.colno}") from None
    except RecursionError:
        raise SourceError(f"{path}: JSON nested too deeply to read") from None


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
