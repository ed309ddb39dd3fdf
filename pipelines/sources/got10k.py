"""GOT-10k split folders -> tracking samples with 8 normalized, timestamped boxes.

    SPLIT/list.txt                 sequence names, one per line
    SPLIT/SEQ/00000001.jpg ...     frames at 10 fps
    SPLIT/SEQ/groundtruth.txt      x,y,w,h in pixels, one line per frame
    SPLIT/SEQ/absence.label        1 where the object is absent (optional)
    SPLIT/SEQ/cover.label          visible fraction in eighths, 0..8 (optional)
    SPLIT/SEQ/meta_info.ini        [METAINFO] object_class, resolution: (W, H), ...

Frames (the rule, also used for VideoChat-R1's got_*.json): only frames where the object is visible
count (not absent, cover > 0, box with area). The first visible frame carries the box the prompt
gives; the other 7 spread over the remaining visible frames: the next one, the last one, and 5
evenly spaced between (floor). The reference's got_val.json fits this shape: its second box is
always within ~0.02 of its first (consecutive frames), its others ~0.2 apart. A sequence with fewer
than 8 visible frames is rejected. Times are frame index / 10 s; boxes are divided by the resolution.
"""

from __future__ import annotations

import configparser
import os
import re
from typing import Any, Iterator

from pipelines import storage
from pipelines.sources.base import Adapter, Draft, RawRecord, Rejected, SourceOptions, split_from_name
from pipelines.sources.registry import register_adapter
from pipelines.video.media import ImageSequence

NAME = "got10k"
FPS = 10.0
N_FRAMES = 8
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")


def _lines(path: str) -> list[str]:
    return [ln.strip() for ln in storage.read_text(path).splitlines() if ln.strip()] if storage.exists(path) else []


def read_meta(path: str) -> dict[str, str]:
    if not storage.exists(path):
        return {}
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(storage.read_text(path))
    return {k: v for s in parser.sections() for k, v in parser.items(s)}


def read_sequence(seq_dir: str) -> dict[str, Any]:
    """The sequence's annotation files as found (JSON-able), plus its frame file names."""
    files = sorted(f for f in os.listdir(seq_dir) if f.lower().endswith(IMAGE_EXTENSIONS)) if os.path.isdir(seq_dir) else []
    return {
        "sequence": os.path.basename(seq_dir.rstrip("/")),
        "meta": read_meta(os.path.join(seq_dir, "meta_info.ini")),
        "groundtruth": _lines(os.path.join(seq_dir, "groundtruth.txt")),
        "absence": _lines(os.path.join(seq_dir, "absence.label")),
        "cover": _lines(os.path.join(seq_dir, "cover.label")),
        "frames": files,
    }


def parse_box(line: str) -> tuple[float, float, float, float]:
    parts = [p for p in re.split(r"[,\s]+", line) if p]
    if len(parts) != 4:
        raise Rejected("groundtruth_malformed", f"expected x,y,w,h, got {line!r}")
    try:
        x, y, w, h = (float(p) for p in parts)
    except ValueError:
        raise Rejected("groundtruth_malformed", f"expected numbers, got {line!r}") from None
    return x, y, w, h


def visible_frames(seq: dict[str, Any]) -> list[int]:
    """Indices of the frames where the object is visible and annotated with a box of some area."""
    absent, cover = seq["absence"], seq["cover"]
    out = []
    for i, line in enumerate(seq["groundtruth"]):
        _, _, w, h = parse_box(line)
        if (i < len(absent) and absent[i] == "1") or (i < len(cover) and cover[i] == "0") or w <= 0 or h <= 0:
            continue
        out.append(i)
    return out


def pick_frames(visible: list[int], k: int = N_FRAMES) -> list[int]:
    """The first visible frame, then k-1 over the rest: next, last and evenly spaced between (floor)."""
    if len(visible) < k:
        raise Rejected("too_few_visible_frames", f"{len(visible)} visible frames, need {k}")
    rest = visible[1:]
    step = (len(rest) - 1) / (k - 2)
    return [visible[0]] + [rest[int(j * step)] for j in range(k - 1)]


def resolution(seq: dict[str, Any], seq_dir: str) -> tuple[int, int]:
    """(W, H) from meta_info.ini, else from the first frame's header."""
    m = re.match(r"\(?\s*(\d+)\s*,\s*(\d+)", seq["meta"].get("resolution", ""))
    if m:
        return int(m.group(1)), int(m.group(2))
    if not seq["frames"]:
        raise Rejected("sequence_missing", f"no frames in {seq['sequence']}")
    from PIL import Image

    with Image.open(os.path.join(seq_dir, seq["frames"][0])) as im:
        return im.size


def check_sequence(seq: dict[str, Any]) -> None:
    if not seq["frames"]:
        raise Rejected("sequence_missing", f"no frames found for sequence {seq['sequence']}")
    if len(seq["groundtruth"]) != len(seq["frames"]):
        raise Rejected(
            "groundtruth_incomplete", f"{len(seq['groundtruth'])} boxes for {len(seq['frames'])} frames"
        )


def read(opts: SourceOptions) -> Iterator[RawRecord]:
    for split_dir in opts.annotations:
        split = split_from_name(split_dir, opts.split)
        names = _lines(os.path.join(split_dir, "list.txt"))
        for name in names:
            seq_dir = os.path.join(split_dir, name)
            yield RawRecord(
                dataset=NAME,
                source_file=f"{os.path.basename(split_dir.rstrip('/'))}/list.txt",
                source_key=name,
                raw=read_sequence(seq_dir),
                split=split,
                context={"dir": seq_dir},
            )


def sequence_media(seq: dict[str, Any], seq_dir: str, chosen: list[int]) -> ImageSequence:
    """The chosen frames of a sequence folder, each shown at its index / FPS seconds."""
    return ImageSequence(
        tuple(os.path.join(seq_dir, seq["frames"][i]) for i in chosen), tuple(i / FPS for i in chosen), FPS, len(seq["frames"])
    )


def draft(rec: RawRecord) -> Draft:
    seq, seq_dir = rec.raw, rec.context["dir"]
    check_sequence(seq)
    width, height = resolution(seq, seq_dir)
    chosen = pick_frames(visible_frames(seq))
    boxes = []
    for i in chosen:
        x, y, w, h = parse_box(seq["groundtruth"][i])
        boxes.append({"t": i / FPS, "x0": x / width, "y0": y / height, "x1": (x + w) / width, "y1": (y + h) / height})
    return {
        "task": "tracking",
        "video_key": seq["sequence"],
        "query": seq["meta"].get("object_class"),
        "duration": len(seq["frames"]) / FPS,
        "boxes": boxes,
        "media": sequence_media(seq, seq_dir, chosen),
    }


ADAPTER = register_adapter(Adapter(NAME, read, draft, __doc__ or "", needs_videos=False))
