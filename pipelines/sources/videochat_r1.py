"""VideoChat-R1's own annotation files; the format is recognised per file (or per record):

- grounding: the grouped grounding JSON (as TimeZero, which it was built from);
- grounded QA (nextgqa_val.json): {id, video, question, options ["(A) ...", ...], duration, glue
  [[s, e], ...], answer "(C)"};
- tracking (got_val.json): {path, object, gt: 8 boxes [x0, y0, x1, y1], normalized}. Box times need
  the sequence: its folder is looked up by name under --videos (a GOT-10k split folder) and the
  frames are chosen by the GOT-10k rule (`pipelines.sources.got10k`). Where the folder has its
  groundtruth, the boxes must agree with it (else `boxes_disagree_with_sequence`, i.e. the rule did
  not find the reference's frames). With --videos but no folder for it, the record is
  `sequence_missing`. Without --videos (labels only), the boxes are written with assumed times, one
  frame apart at 10 fps, and the repair `box_times_assumed` says so: enough to score and evaluate
  the boxes, not to align them with frames.
"""

from __future__ import annotations

import os
from typing import Any, Iterator

from pipelines.sources import got10k, grouped_grounding
from pipelines.sources.base import (
    Adapter, Draft, RawRecord, Rejected, SourceOptions, read_json_file, span_dict, split_from_name,
)
from pipelines.video.media import VideoFile
from pipelines.sources.letters import letter_index, strip_letters
from pipelines.sources.registry import register_adapter

NAME = "videochat-r1"
BOX_AGREEMENT = 0.002  # the file rounds to 3 decimals


def read(opts: SourceOptions) -> Iterator[RawRecord]:
    for path in opts.annotations:
        data = read_json_file(path)
        if grouped_grounding.is_grouped(data):
            yield from grouped_grounding.records(data, NAME, path, opts.split)
            continue
        items = data if isinstance(data, list) else [data]
        for i, item in enumerate(items):
            context: dict[str, Any] = {"videos_given": bool(opts.videos)}
            if isinstance(item, dict) and "gt" in item and opts.videos:
                seq_dir = os.path.join(opts.videos, os.path.basename(str(item.get("path", "")).rstrip("/")))
                context.update(dir=seq_dir, root=opts.videos, sequence=got10k.read_sequence(seq_dir, opts.videos))
            yield RawRecord(NAME, os.path.basename(path), f"[{i}]", item, split_from_name(path, opts.split), context)


def draft_grounded_qa(item: dict[str, Any]) -> Draft:
    choices = strip_letters(item["options"])
    vid = os.path.splitext(os.path.basename(str(item["video"])))[0]
    return {
        "task": "grounded_qa",
        "video_key": vid,
        "query": item.get("question"),
        "duration": item.get("duration"),
        "choices": choices,
        "answer_index": letter_index(str(item.get("answer", "")), len(choices)),
        "spans": [span_dict(s) for s in item["glue"]],
        "media": VideoFile.of(str(item["video"]), vid),
    }


def draft_tracking(item: dict[str, Any], context: dict[str, Any]) -> Draft:
    seq = context.get("sequence")
    gt = item["gt"]
    if not isinstance(gt, list) or len(gt) != got10k.N_FRAMES or not all(isinstance(b, list) and len(b) == 4 for b in gt):
        raise Rejected("boxes_malformed", f"expected {got10k.N_FRAMES} boxes [x0, y0, x1, y1]")
    name = os.path.basename(str(item.get("path", "")).rstrip("/"))
    if seq and seq.get("problem"):
        raise Rejected(*seq["problem"])
    if not seq or not seq["frames"]:
        if context.get("videos_given"):
            raise Rejected("sequence_missing", f"sequence folder {name} not found under --videos")
        return {
            "task": "tracking",
            "video_key": name,
            "query": item.get("object"),
            "boxes": [{"t": k / got10k.FPS, "x0": b[0], "y0": b[1], "x1": b[2], "y1": b[3]} for k, b in enumerate(gt)],
            "repairs": ["box_times_assumed"],
            "media": VideoFile.of(name),
        }
    if seq["groundtruth"]:
        got10k.check_sequence(seq)
    chosen = got10k.pick_frames(got10k.visible_frames(seq) if seq["groundtruth"] else list(range(len(seq["frames"]))))
    got10k.check_frames_inside(seq, context["dir"], [0, *chosen], context.get("root"))
    if seq["groundtruth"]:
        width, height = got10k.resolution(seq, context["dir"])
        for i, box in zip(chosen, gt):
            x, y, w, h = got10k.parse_box(seq["groundtruth"][i])
            mine = (x / width, y / height, (x + w) / width, (y + h) / height)
            if max(abs(a - float(b)) for a, b in zip(mine, box)) > BOX_AGREEMENT:
                raise Rejected("boxes_disagree_with_sequence", f"frame {i}: {box} vs groundtruth {mine}")
    boxes = [{"t": i / got10k.FPS, "x0": b[0], "y0": b[1], "x1": b[2], "y1": b[3]} for i, b in zip(chosen, gt)]
    return {
        "task": "tracking",
        "video_key": seq["sequence"],
        "query": item.get("object"),
        "duration": len(seq["frames"]) / got10k.FPS,
        "boxes": boxes,
        "media": got10k.sequence_media(seq, context["dir"], chosen),
    }


def draft(rec: RawRecord) -> Draft:
    item = rec.raw
    if not isinstance(item, dict):
        raise Rejected("record_format_unknown", f"expected an object, got {type(item).__name__}")
    if set(item) >= {"video", "timestamp", "sentence"}:
        return grouped_grounding.draft(rec)
    if "glue" in item and "options" in item:
        return draft_grounded_qa(item)
    if "gt" in item and "object" in item:
        return draft_tracking(item, dict(rec.context))
    raise Rejected("record_format_unknown", f"no VideoChat-R1 format has the keys {sorted(item)}")


ADAPTER = register_adapter(Adapter(NAME, read, draft, __doc__ or ""))
