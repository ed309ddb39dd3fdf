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
from pipelines.sources.base import (
    Adapter, Draft, RawRecord, Rejected, SourceError, SourceOptions, check_readable, line_problem, split_from_name,
    text_lines,
)
from pipelines.sources.registry import register_adapter
from pipelines.video.media import ImageSequence

NAME = "got10k"
FPS = 10.0
N_FRAMES = 8
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")
ANNOTATION_FILES = {"meta": "meta_info.ini", "groundtruth": "groundtruth.txt", "absence": "absence.label",
                    "cover": "cover.label"}


def _lines(path: str) -> list[str]:
    """A small annotation file's non-blank lines ([] when absent); `Rejected` when it is not UTF-8."""
    if not storage.exists(path):
        return []
    try:
        return [ln.strip() for ln in storage.read_text(path).splitlines() if ln.strip()]
    except UnicodeDecodeError:
        raise Rejected(f"{_reason_stem(path)}_not_utf8", f"{os.path.basename(path)} is not UTF-8 text") from None


def _reason_stem(path: str) -> str:
    """"cover.label" -> "cover_label": the file named in its reject reason."""
    return os.path.basename(path).replace(".", "_")


def read_meta(path: str) -> dict[str, str]:
    if not storage.exists(path):
        return {}
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(storage.read_text(path))
    except (configparser.Error, UnicodeDecodeError) as err:
        raise Rejected("meta_info_malformed", f"meta_info.ini: {str(err).splitlines()[0][:200]}") from None
    return {k: v for s in parser.sections() for k, v in parser.items(s)}


def read_sequence(seq_dir: str, root: str | None = None) -> dict[str, Any]:
    """The sequence's annotation files as found (JSON-able), plus its frame file names. A file that
    cannot be read is recorded under `problem` (the record's reject), never raised: one bad sequence
    is one reject. A folder (or annotation file) that resolves outside `root` is not read at all."""
    name = os.path.basename(seq_dir.rstrip("/"))
    seq: dict[str, Any] = {"sequence": name, "meta": {}, "groundtruth": [], "absence": [], "cover": [], "frames": []}
    files = {k: os.path.join(seq_dir, f) for k, f in ANNOTATION_FILES.items()}
    if root is not None and not all(storage.inside(root, p) for p in (seq_dir, *files.values())):
        return {**seq, "problem": ["video_outside_root", f"{name} resolves outside {root}"]}
    try:
        seq["meta"] = read_meta(files["meta"])
        for key in ("groundtruth", "absence", "cover"):
            seq[key] = _lines(files[key])
    except Rejected as bad:
        return {**seq, "problem": [bad.reason, bad.detail]}
    if os.path.isdir(seq_dir):
        seq["frames"] = sorted(f for f in os.listdir(seq_dir) if f.lower().endswith(IMAGE_EXTENSIONS))
    return seq


def annotation_files(opts: SourceOptions) -> list[str]:
    """Every file whose content makes the records of these split folders: list.txt and the sequences'
    annotation files (not their images)."""
    out = []
    for split_dir in opts.annotations:
        out.append(os.path.join(split_dir, "list.txt"))
        for name in sequence_names(split_dir):
            seq_dir = os.path.join(split_dir, name)
            if storage.inside(split_dir, seq_dir):
                out += [p for p in (os.path.join(seq_dir, f) for f in ANNOTATION_FILES.values()) if os.path.isfile(p)]
    return out


def sequence_names(split_dir: str) -> list[str]:
    return [line.strip() for _, line, problem in text_lines(os.path.join(split_dir, "list.txt"))
            if line.strip() and not problem]


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
    if seq.get("problem"):
        raise Rejected(*seq["problem"])
    if not seq["frames"]:
        raise Rejected("sequence_missing", f"no frames found for sequence {seq['sequence']}")
    if len(seq["groundtruth"]) != len(seq["frames"]):
        raise Rejected(
            "groundtruth_incomplete", f"{len(seq['groundtruth'])} boxes for {len(seq['frames'])} frames"
        )


def read(opts: SourceOptions) -> Iterator[RawRecord]:
    for split_dir in opts.annotations:
        split = split_from_name(split_dir, opts.split)
        listing = os.path.join(split_dir, "list.txt")
        if not os.path.isfile(listing):
            raise SourceError(f"{split_dir} is not a GOT-10k split folder: no list.txt in it")
        for number, name, problem in text_lines(listing):
            name = name.strip()
            if not name and not problem:
                continue
            seq_dir = os.path.join(split_dir, name)
            yield RawRecord(
                dataset=NAME,
                source_file=f"{os.path.basename(split_dir.rstrip('/'))}/list.txt",
                source_key=name if not problem else f"line {number}",
                raw={"sequence": name} if problem else read_sequence(seq_dir, split_dir),
                split=split,
                context=line_problem(problem, number) if problem else {"dir": seq_dir, "root": split_dir},
            )


def sequence_media(seq: dict[str, Any], seq_dir: str, chosen: list[int]) -> ImageSequence:
    """The chosen frames of a sequence folder, each shown at its index / FPS seconds."""
    return ImageSequence(
        tuple(os.path.join(seq_dir, seq["frames"][i]) for i in chosen), tuple(i / FPS for i in chosen), FPS, len(seq["frames"])
    )


def check_frames_inside(seq: dict[str, Any], seq_dir: str, chosen: list[int], root: str | None) -> None:
    """The chosen frame files must not lead outside the split folder (a symlink to elsewhere)."""
    for i in chosen:
        if root is not None and not storage.inside(root, os.path.join(seq_dir, seq["frames"][i])):
            raise Rejected("video_outside_root", f"frame {seq['frames'][i]} of {seq['sequence']} resolves outside {root}")


def draft(rec: RawRecord) -> Draft:
    check_readable(rec)
    seq, seq_dir = rec.raw, rec.context["dir"]
    check_sequence(seq)
    chosen = pick_frames(visible_frames(seq))
    check_frames_inside(seq, seq_dir, [0, *chosen], rec.context.get("root"))
    width, height = resolution(seq, seq_dir)
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


ADAPTER = register_adapter(Adapter(NAME, read, draft, __doc__ or "", needs_videos=False, shape="folder",
                                    side_files=annotation_files))
