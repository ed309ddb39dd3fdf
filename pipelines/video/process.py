"""A video file (or a folder or sequence of frame images) -> a verified row of the videos table."""

from __future__ import annotations

import os
from typing import Sequence

from pipelines import storage
from pipelines.video.decode import decode_video
from pipelines.video.errors import VideoError
from pipelines.video.images import sample_image_folder, sample_image_frames
from pipelines.video.media import ImageSequence, Media, VideoFile
from pipelines.video.plan import check_frame_size
from pipelines.video.policy import FramePolicy
from pipelines.video.probe import probe
from pipelines.video.row import video_row
from pipelines.video.worker import WorkerPool

DEFAULT_TIMEOUT_S = 300.0
IMAGE_THREADS = 2


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
    facts = probe(path)
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


def decode_media(
    media: Media,
    videos_dir: str | None,
    policy: FramePolicy = FramePolicy(),
    timestamps: Sequence[float] | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    *,
    video_key: str | None = None,
    pool: WorkerPool | None = None,
    image_threads: int = IMAGE_THREADS,
) -> dict:
    """The `videos` row (without `video_key`) of a sample's media: a video file found under
    `videos_dir` (by its hints, else by `video_key`; a remote file is copied for the decoders) and
    decoded at `timestamps` (None: by the policy), or an image sequence at its own times."""
    if isinstance(media, ImageSequence):
        return sample_image_frames(
            media.paths, media.timestamps, policy, fps=media.fps, frame_count=media.frame_count,
            duration=media.duration, uri=media.uri, threads=image_threads,
        )
    path = media.locate(videos_dir, video_key)
    with storage.local_copy(path) as local:
        row = process_video(local, policy, timestamps=timestamps, timeout_s=timeout_s, pool=pool)
    row["uri"] = path
    return row


def media_duration(media: Media, videos_dir: str | None, video_key: str | None = None) -> float | None:
    """The duration the media's header states, without decoding a frame (labels-only runs)."""
    if isinstance(media, ImageSequence):
        return media.duration
    path = media.locate(videos_dir, video_key)
    with storage.local_copy(path) as local:
        return probe(local).duration


__all__ = ["DEFAULT_TIMEOUT_S", "VideoFile", "decode_media", "media_duration", "process_video"]
