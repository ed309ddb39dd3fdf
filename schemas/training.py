"""One training row from a sample and its video, and the frames read back from one: the one layout that
vrft's trainer, evaluation, `vrft show`, verl's `RLHFDataset` and qwen_vl_utils all read.

`reward_model.ground_truth` is a JSON string holding the task, the label fields and the duration: the
same object `rewards` scores, so verl's `compute_score` and our trainer read one truth.

`videos[0]` (see tables.VIDEO_INPUT_TYPE) holds the frames as HF images (`{"bytes", "path"}`), the stored
sampled fps as `sample_fps` and the stored size as `resized_height`/`resized_width` (the keys
qwen_vl_utils' `fetch_video` reads), plus the frame times and a CRC-32 per frame. Non-finite times,
fps or labels are refused here, at write: JSON has no NaN and the model has no use for one.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from schemas.prompts import render_prompt
from schemas.tables import corrupt_frames, frame_crc32
from schemas.task import get_task


class FrameError(ValueError):
    """A stored video that must not reach a model: frames that fail their checksums, times that are not
    finite, a count that does not match."""


def ground_truth(row: Mapping[str, Any], think: bool = True) -> dict[str, Any]:
    """The scoring truth of a sample: task, label columns, duration and the prompt variant."""
    task = get_task(row["task"])
    truth: dict[str, Any] = {"task": task.name, "think": think}
    for col in task.label_columns:
        truth[col] = row.get(col)
    if row.get("duration") is not None:
        truth["duration"] = row["duration"]
    return truth


def check_frames(frames: Sequence[bytes], times: Sequence[float], fps: float | None,
                 checksums: Sequence[int] | None = None, verify: bool = True) -> None:
    """Raise FrameError unless there are frames, one finite time and (with `verify`) one matching CRC-32
    per frame, and the fps is a finite number > 0."""
    if not frames or len(frames) != len(times):
        raise FrameError(f"{len(frames)} frames and {len(times)} timestamps")
    bad = [i for i, t in enumerate(times) if t is None or not math.isfinite(t)]
    if bad:
        raise FrameError(f"frame times not finite at frames {bad[:8]}")
    if fps is None or not math.isfinite(fps) or fps <= 0:
        raise FrameError(f"sampled fps {fps} is not a finite number > 0")
    bad = corrupt_frames(frames, checksums) if verify else []
    if bad:
        raise FrameError(f"frames {bad[:8]} of {len(frames)} do not match their checksums")


def frame_columns(frames: Sequence[bytes], timestamps: Sequence[float], fps: float, width: int, height: int) -> dict[str, Any]:
    """The frame columns of a `videos` row (frames, their times, the sampled fps, the stored size), with
    the CRC-32 of each frame made here, at write. Raises FrameError on non-finite times or fps."""
    check_frames(frames, timestamps, fps, verify=False)
    return {
        "frame_width": int(width), "frame_height": int(height), "sampled_fps": float(fps),
        "timestamps": [float(t) for t in timestamps], "frames": list(frames),
        "frame_crc32": [frame_crc32(f) for f in frames],
    }


def video_entry(video: Mapping[str, Any], verify: bool = True) -> dict[str, Any]:
    """The `videos` entry of a training row from a `videos` table row (frames, timestamps, sampled_fps,
    frame_width, frame_height, frame_crc32). Raises FrameError as `check_frames` does (the checksums
    are checked with `verify`)."""
    frames, times, crc = video["frames"] or [], video["timestamps"] or [], video.get("frame_crc32")
    check_frames(frames, times, video["sampled_fps"], crc, verify)
    return {
        "video": [{"bytes": f, "path": None} for f in frames],
        "sample_fps": float(video["sampled_fps"]),
        "resized_height": int(video["frame_height"]),
        "resized_width": int(video["frame_width"]),
        "timestamps": [float(t) for t in times],
        "frame_crc32": [int(c) for c in crc or ()],
    }


def training_row(
    row: Mapping[str, Any],
    video: Mapping[str, Any] | None,
    think: bool = True,
    index: int = 0,
) -> dict[str, Any]:
    """A self-contained example (see tables.training_schema): prompt, the video (an entry made by
    `video_entry`, shared by every row of that video; None: no frames) and the truth. Raises ValueError
    naming the sample when its labels or duration are not finite."""
    task = get_task(row["task"])
    sid = row["sample_id"]
    try:
        truth = json.dumps(ground_truth(row, think), sort_keys=True, allow_nan=False)
    except ValueError:
        raise ValueError(f"sample {sid}: labels or duration not finite") from None
    return {
        "sample_id": sid,
        "task": task.name,
        "dataset": row.get("dataset"),
        "split": row.get("split"),
        "video_key": row.get("video_key"),
        "think": think,
        "data_source": f"vrft/{row.get('dataset')}/{task.name}",
        "prompt": render_prompt(task, row, think=think),
        "videos": [] if video is None else [video],
        "reward_model": {"style": "rule", "ground_truth": truth},
        "extra_info": {"index": index, "sample_id": sid, "task": task.name, "think": think},
    }


@dataclass(frozen=True)
class StoredVideo:
    """The frames of a training row, as stored: JPEG bytes with their times and the fps the model is told."""

    frames: list[bytes]
    timestamps: list[float]
    fps: float
    width: int
    height: int


def stored_video(row: Mapping[str, Any], verify: bool = True) -> StoredVideo | None:
    """The video of a training row as Arrow reads it (None when it has none), checked as `check_frames`
    does (every frame against its CRC-32 with `verify`): FrameError names the frames."""
    if not row.get("videos"):
        return None
    entry = row["videos"][0]
    frames = [f["bytes"] for f in entry["video"] or []]
    times = list(entry["timestamps"] or [])
    check_frames(frames, times, entry["sample_fps"], entry.get("frame_crc32"), verify)
    return StoredVideo(frames, [float(t) for t in times], float(entry["sample_fps"]), int(entry["resized_width"]),
                       int(entry["resized_height"]))
