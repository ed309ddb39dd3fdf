"""The video stage: a video file (or a folder of frame images) -> a verified row of the videos table.

    row = process_video("clip.mp4")                  # 2 fps, 4..768 frames, the paper's budgets
    row = process_video("clip.mp4", timestamps=[...]) # exactly these frames (tracking)
    row = sample_image_frames(paths, times)           # GOT-10k: images at known times
    row = decode_media(VideoFile.of("a.mp4"), videos_dir)   # a draft's media, found and decoded

Every failure raises `VideoError` with a snake_case `reason` (see `errors.REASONS`).
Decoding runs in worker processes (`worker.default_pool()`) with a per-video timeout.

The names below are loaded on first use: every dataset adapter imports `pipelines.video.media` (the
media types), and that must not load numpy, PIL and pyarrow into `vrft --help`.
"""

from __future__ import annotations

import importlib
from typing import Any

_HOMES = {
    "DEFAULT_TIMEOUT_S": "process", "decode_media": "process", "media_duration": "process", "process_video": "process",
    "REASONS": "errors", "VideoError": "errors",
    "ImageSequence": "media", "Media": "media", "VideoFile": "media",
    "sample_image_folder": "images", "sample_image_frames": "images",
    "FramePlan": "plan", "plan_frames": "plan",
    "FramePolicy": "policy",
    "Probe": "probe",
    "WorkerPool": "worker",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(f"pipelines.video.{_HOMES[name]}"), name)
    raise AttributeError(f"module 'pipelines.video' has no attribute {name!r}")
