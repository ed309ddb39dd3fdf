"""A row of the `videos` table (`schemas.tables.videos_schema`, without `video_key`).

Each frame gets its CRC-32 here, at write, so every later reader (validate, mix, the trainer) can tell
a frame changed on disk from the one decoded. Frame times that are not finite are refused here too.
"""

from __future__ import annotations

from typing import Sequence

import schemas
from pipelines.video.errors import VideoError
from pipelines.video.plan import FramePlan
from pipelines.video.policy import FramePolicy


def sampled_fps(timestamps: Sequence[float], default: float) -> float:
    """The fps to give the processor: (n - 1) / (last - first) of the frames really decoded.

    The model places temporal patch k (frames 2k, 2k+1) at k * 2 / fps seconds. With this fps
    that is exactly the real time of frame 2k after the first frame, for evenly spaced frames.
    The reference's n / duration is a little larger (about 1.95 instead of 1.93 on a 30 s,
    15 fps clip), which puts the last patch of a 30 s clip about 0.4 s early.
    """
    if len(timestamps) < 2 or timestamps[-1] <= timestamps[0]:
        return default
    return (len(timestamps) - 1) / (timestamps[-1] - timestamps[0])


def video_row(
    *,
    uri: str,
    duration: float | None,
    fps: float | None,
    width: int,
    height: int,
    frame_count: int | None,
    codec: str,
    policy: FramePolicy,
    plan: FramePlan,
    timestamps: Sequence[float],
    frames: Sequence[bytes],
) -> dict:
    try:
        stored = schemas.frame_columns(frames, timestamps, sampled_fps(timestamps, policy.target_fps), plan.width, plan.height)
    except schemas.FrameError as err:
        raise VideoError("timestamps_invalid", f"decoded frames: {err}") from None
    return {
        "uri": uri,
        "duration": duration,
        "fps": fps,
        "width": width,
        "height": height,
        "frame_count": frame_count,
        "codec": codec,
        "plan": policy.to_struct(),
        **stored,
    }
