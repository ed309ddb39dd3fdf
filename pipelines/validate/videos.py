"""The videos table's checks: frames as the model will see them, and the JPEGs really decode.

Sizes: both sides on the grid of the row's own frame policy (`plan.factor`, 28 by default); per-frame
pixels within [plan.min_pixels, cap] where cap = min(plan.max_pixels, plan.total_pixels * 2 / n) for n
frames rounded up to even (the model counts two frames per temporal patch), the frame policy of docs/design.md. Timestamps: as many as frames, ascending,
inside [0, duration], finite. Integrity: EVERY frame's bytes are checked against the CRC-32 written
at ingest (a flipped byte or a truncated frame anywhere in the video fails, at the cost of a checksum,
not a decode). JPEGs: every frame's header is read (its size must match the stored size) and the first
and last frame of each video are fully decoded, which catches an encoder that wrote something else.
"""

from __future__ import annotations

import io
import math
from typing import Any, Collection

import numpy as np
import pandas as pd
import pyarrow as pa

from pipelines.validate.spec import CheckTable, between, equal, greater, in_set, not_null
from schemas import corrupt_frames

VIDEOS = "videos"
FRAMES_PER_PATCH = 2
COLUMNS = ("video_key", "duration", "plan", "frame_width", "frame_height", "sampled_fps", "timestamps", "frames",
           "frame_crc32")
DUPLICATED = "video_key.duplicated"


def video_table() -> CheckTable:
    return CheckTable(VIDEOS, (
        not_null("video_key"),
        in_set(DUPLICATED, [False], "video_key is unique across videos/"),
        between("frames.count", FRAMES_PER_PATCH, None, about="at least two frames"),
        equal("frames.count", "timestamps.count", "one timestamp per frame"),
        in_set("timestamps.finite", [True], "frame times are finite numbers"),
        in_set("frames.crc32", ["ok"], "every frame's bytes match the CRC-32 written at ingest"),
        between("timestamps.first", 0.0, None, about="frame times >= 0"),
        between("timestamps.step_min", 0.0, None, strict_low=True, about="frame times strictly ascending"),
        greater("duration", "timestamps.last", or_equal=True, about="frame times inside the video"),
        in_set("plan.recorded", [True], "a video with frames records the frame policy that made them"),
        in_set("frame_width % plan.factor", [0], "frame width on the plan's pixel grid"),
        in_set("frame_height % plan.factor", [0], "frame height on the plan's pixel grid"),
        greater("frame.pixels", "plan.min_pixels", or_equal=True, about="frame pixels >= plan.min_pixels"),
        greater("plan.frame_cap", "frame.pixels", or_equal=True,
                about="frame pixels <= min(plan.max_pixels, plan.total_pixels * 2 / frames)"),
        between("sampled_fps", 0.0, None, strict_low=True, about="sampled fps > 0"),
        in_set("frames.jpeg", ["ok"], "frames are JPEGs of the stored size"),
    ), key="video_key")


def jpeg_problem(frames: list[bytes], width: int | None, height: int | None) -> str:
    """"ok", or what is wrong with the frames of one video."""
    from PIL import Image

    for i, data in enumerate(frames):
        try:
            with Image.open(io.BytesIO(data)) as im:
                if im.format != "JPEG":
                    return f"frame {i} is {im.format}, not JPEG"
                if im.size != (width, height):
                    return f"frame {i} is {im.size[0]}x{im.size[1]}, stored size {width}x{height}"
                if i in (0, len(frames) - 1):
                    im.load()
        except Exception as err:  # any decoder error is the finding, not a crash
            return f"frame {i} does not decode: {type(err).__name__}: {err}"
    return "ok"


def checksum_problem(frames: list[bytes], checksums: list[int] | None) -> str:
    """"ok", or which frames do not match their CRC-32 (every frame is checked)."""
    if checksums is None:
        return "no checksums (written by an older vrft: ingest again)"
    if len(checksums) != len(frames):
        return f"{len(checksums)} checksums for {len(frames)} frames"
    bad = corrupt_frames(frames, checksums)
    return f"frames {bad[:8]} differ from their checksums" if bad else "ok"


def frame_cap(plan: dict[str, Any] | None, n: int) -> float:
    if not plan or not n:
        return np.nan
    n_even = -(-n // FRAMES_PER_PATCH) * FRAMES_PER_PATCH
    return float(min(plan["max_pixels"], plan["total_pixels"] * FRAMES_PER_PATCH / n_even))


def video_row(v: dict[str, Any], duplicated: Collection[str]) -> dict[str, Any]:
    ts = [math.nan if t is None else t for t in v["timestamps"] or []]
    frames, plan = v["frames"] or [], v["plan"]
    w, h = v["frame_width"], v["frame_height"]
    factor = plan["factor"] if plan else None
    steps = np.diff(ts) if len(ts) > 1 else np.array([np.nan])
    return {
        "video_key": v["video_key"],
        DUPLICATED: v["video_key"] in duplicated,
        "duration": v["duration"],
        "frames.count": len(frames),
        "timestamps.count": len(ts),
        "timestamps.finite": all(math.isfinite(t) for t in ts),
        "frames.crc32": checksum_problem(frames, v.get("frame_crc32")),
        "timestamps.first": ts[0] if ts else np.nan,
        "timestamps.last": ts[-1] if ts else np.nan,
        "timestamps.step_min": float(np.min(steps)),
        "frame_width": w,
        "frame_height": h,
        "plan.recorded": bool(plan),
        "frame_width % plan.factor": None if w is None or not factor else w % factor,
        "frame_height % plan.factor": None if h is None or not factor else h % factor,
        "frame.pixels": np.nan if w is None or h is None else float(w * h),
        "plan.min_pixels": np.nan if not plan else float(plan["min_pixels"]),
        "plan.frame_cap": frame_cap(plan, len(frames)),
        "sampled_fps": v["sampled_fps"],
        "frames.jpeg": jpeg_problem(frames, w, h),
    }


def video_frame(t: pa.Table, duplicated: Collection[str]) -> tuple[pd.DataFrame, int]:
    """(check rows of the videos with frames, how many videos had none)."""
    rows = [v for v in t.to_pylist() if v["frames"]]
    return pd.DataFrame([video_row(v, duplicated) for v in rows]), t.num_rows - len(rows)
