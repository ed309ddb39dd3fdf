"""The video stage: a video file (or a folder of frame images) -> a verified row of the videos table.

    row = process_video("clip.mp4")                  # 2 fps, 4..768 frames, the paper's budgets
    row = process_video("clip.mp4", timestamps=[...]) # exactly these frames (tracking)
    row = sample_image_frames(paths, times)           # GOT-10k: images at known times

Every failure raises `VideoError` with a snake_case `reason` (see `errors.REASONS`).
Decoding runs in worker processes (`worker.default_pool()`) with a per-video timeout.
"""

from __future__ import annotations

import os
from typing import Sequence

from pipelines.video.decode import decode_video
from pipelines.video.errors import REASONS, VideoError
from pipelines.video.images import sample_image_folder, sample_image_frames
from pipelines.video.plan import FramePlan, check_frame_size, plan_frames
from pipelines.video.policy import FramePolicy
from pipelines.video.probe import Probe, probe as _probe
from pipelines.video.row import video_row
from pipelines.video.worker import WorkerPool

DEFAULT_TIMEOUT_S = 300.0

__all__ = [
    "DEFAULT_TIMEOUT_S", "REASONS", "FramePlan", "FramePolicy", "Probe", "VideoError", "WorkerPool",
    "plan_frames", "process_video", "sample_image_folder", "sample_image_frames",
]


def process_video(
    path: str | os.PathLike,
    policy: FramePolicy = FramePolicy(),
    timestamps: Sequence[float] | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    *,
    image_fps: float | None = None,
    pool: WorkerPool | None = None,
) -> dict:
    """A `videos` row (without `video_key`) for the video at `path`, frames verified.

    `path` may also be a folder of frame images shown at `image_fps`. The row's duration, fps and
    frame_count are what demuxing and decoding established (they differ from the header only
    when the header was wrong or silent); width and height are the container's as displayed
    (swapped for a 90/270 degree rotation); timestamps are seconds from the first video frame.
    """
    if os.path.isdir(path):
        if not image_fps:
            raise VideoError("fps_unknown", f"{os.fspath(path)} is a folder of images: give its image_fps")
        return sample_image_folder(path, image_fps, policy, timestamps)
    facts = _probe(path)
    check_frame_size(facts.width, facts.height, policy.factor)
    got = decode_video(os.fspath(path), facts, policy, timestamps, timeout_s, pool)
    return video_row(
        uri=os.fspath(path),
        duration=got.duration,
        fps=got.fps,
        width=facts.width,
        height=facts.height,
        frame_count=got.frame_count,
        codec=facts.codec,
        policy=policy,
        plan=got.plan,
        timestamps=got.timestamps,
        frames=got.frames,
    )
