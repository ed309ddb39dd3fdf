"""What `vrft ingest` checks before any work, so a user mistake is one message naming the file and the fix.

- Every input exists and is what its adapter reads: a regular file (a folder for GOT-10k split folders);
  never a FIFO or a device, which would hang or stream forever.
- Text inputs are UTF-8 text: a UTF-16 or binary file is refused by name, not read as a million bad lines.
- A side file that every record needs is given (Charades-STA durations, NExT-GQA evidence spans):
  otherwise the message says which flag, instead of a run that rejects every record.
- The work is within the stated limits (`MAX_RECORDS` records, counted by streaming the lines of line
  formats; `MAX_JSON_BYTES` for formats parsed whole), unless the user passes --allow-large.
"""

from __future__ import annotations

import os
import stat

from pipelines import budget, storage
from pipelines.ingest.config import IngestConfig, IngestError
from pipelines.sources.base import Adapter, SourceError, sniff_text

MAX_RECORDS = 2_000_000
MAX_JSON_BYTES = 1 << 30
ALLOW = "--allow-large"


def _kind(path: str) -> str:
    """"file", "folder", "missing" or what else a local path is (fifo, device, socket)."""
    if storage.is_remote(path):
        return "folder" if storage.isdir(path) else "file" if storage.exists(path) else "missing"
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "missing"
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "folder"
    return {stat.S_ISFIFO(mode): "FIFO", stat.S_ISSOCK(mode): "socket"}.get(True, "device")


def check_shape(path: str, want: str, what: str) -> None:
    kind = _kind(path)
    if kind == "missing":
        raise IngestError(f"not found: {path}")
    if kind != want:
        fix = "give the split folder (list.txt and sequence folders)" if want == "folder" else "give the file itself"
        raise IngestError(f"{what} {path} is a {kind}, not a {want}: {fix}")


def count_lines(path: str) -> int:
    """Lines in a file, streamed a MiB at a time (an unterminated last line counts)."""
    n, last = 0, b"\n"
    with storage.open_read(path) as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            n += block.count(b"\n")
            last = block[-1:]
    return n + (last != b"\n")


def estimate_records(cfg: IngestConfig, adapter: Adapter) -> int:
    """About how many records the annotations hold (lines; a split folder's list.txt)."""
    if adapter.shape == "folder":
        return sum(count_lines(storage.join(p, "list.txt")) for p in cfg.source.annotations
                   if storage.exists(storage.join(p, "list.txt")))
    if adapter.shape == "lines":
        return sum(count_lines(p) for p in cfg.source.annotations)
    return 0


def check(cfg: IngestConfig, adapter: Adapter) -> None:
    """Everything above; raises `IngestError` (or `budget.OverBudget`) with the message."""
    src = cfg.source
    for p in src.annotations:
        check_shape(p, "folder" if adapter.shape == "folder" else "file", "--annotations")
    if src.durations:
        check_shape(src.durations, "file", "--durations")
    if src.videos:
        check_shape(src.videos, "folder", "--videos")
    if cfg.frames and not src.videos and adapter.needs_videos:
        raise IngestError("frames need --videos (the folder the media paths are relative to); or pass --no-frames")
    if cfg.only_present_videos and not src.videos:
        raise IngestError("--only-present-videos needs --videos (the folder whose files are present)")
    texts = [p for p in (*src.annotations, src.durations) if p and _kind(p) == "file"]
    for p in texts:
        try:
            sniff_text(p)
        except SourceError as err:
            raise IngestError(str(err)) from None
    hint = adapter.missing(src, cfg.frames)
    if hint:
        raise IngestError(hint)
    if cfg.allow_large:
        return
    budget.check(f"{cfg.dataset} annotations", estimate_records(cfg, adapter), MAX_RECORDS, "records", ALLOW)
    if adapter.shape == "json":
        for p in src.annotations:
            budget.check(f"{p} (parsed whole, in memory)", storage.size(p), MAX_JSON_BYTES, "bytes", ALLOW)
