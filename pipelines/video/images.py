"""Frames from folders of images (GOT-10k: one JPEG per frame at 10 fps): no video decoder involved."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Sequence

from PIL import Image, UnidentifiedImageError

from pipelines.video.errors import VideoError
from pipelines.video.jpeg import encode_jpeg, to_rgb
from pipelines.video.plan import plan_frames, plan_given
from pipelines.video.policy import FramePolicy
from pipelines.video.row import video_row

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")


def _open(path: str | os.PathLike) -> Image.Image:
    try:
        return Image.open(path)
    except FileNotFoundError:
        raise VideoError("image_missing", f"no image at {os.fspath(path)}") from None
    except (UnidentifiedImageError, OSError) as e:
        raise VideoError("image_unreadable", f"{os.fspath(path)}: {e}") from None


def _frame(path: str | os.PathLike, size: tuple[int, int], source_size: tuple[int, int], quality: int) -> bytes:
    image = _open(path)
    if image.size != source_size:
        raise VideoError("image_size_mismatch", f"{os.fspath(path)} is {image.size}, the sequence is {source_size}")
    try:
        image.draft("RGB", size)  # JPEG: decode at a reduced scale no smaller than the target
        return encode_jpeg(to_rgb(image).resize(size, Image.BICUBIC), quality)
    except OSError as e:  # truncated or corrupt image data
        raise VideoError("image_unreadable", f"{os.fspath(path)}: {e}") from None


def sample_image_frames(
    paths: Sequence[str | os.PathLike],
    timestamps: Sequence[float],
    policy: FramePolicy = FramePolicy(),
    *,
    duration: float | None = None,
    fps: float | None = None,
    frame_count: int | None = None,
    uri: str | None = None,
    threads: int = 2,
) -> dict:
    """A `videos` row from images: paths[i] is the frame shown at timestamps[i] seconds.

    The size follows the same pixel budget as video frames. `duration`, `fps` and `frame_count`
    describe the whole sequence when the caller knows them (GOT-10k: frames / 10 fps). `threads`
    images are read and resized at a time.
    """
    if len(paths) != len(timestamps):
        raise VideoError("timestamps_invalid", f"{len(paths)} images for {len(timestamps)} frame times")
    if not paths:
        raise VideoError("timestamps_invalid", "no frame times given")
    first = _open(paths[0])
    width, height = first.size
    plan = plan_given(timestamps, duration or max(timestamps[-1], 1e-3), width, height, policy)
    size = (plan.width, plan.height)
    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        frames = list(pool.map(lambda p: _frame(p, size, (width, height), policy.jpeg_quality), paths))
    return video_row(
        uri=uri or os.fspath(Path(paths[0]).parent),
        duration=duration,
        fps=fps,
        width=width,
        height=height,
        frame_count=frame_count,
        codec=(first.format or "image").lower(),
        policy=policy,
        plan=plan,
        timestamps=plan.timestamps,
        frames=frames,
    )


def image_files(folder: str | os.PathLike) -> list[Path]:
    """The frame images of a sequence folder, in name order (GOT-10k: 00000001.jpg, ...)."""
    return sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


def sample_image_folder(
    folder: str | os.PathLike, fps: float, policy: FramePolicy = FramePolicy(), timestamps: Sequence[float] | None = None
) -> dict:
    """A folder of frames shown at `fps` treated as a video: image i is at i / fps seconds."""
    files = image_files(folder)
    if not files:
        raise VideoError("image_missing", f"no images in {os.fspath(folder)}")
    width, height = _open(files[0]).size
    duration = len(files) / fps
    plan = plan_frames(duration, fps, width, height, policy, timestamps)
    picks = [min(len(files) - 1, round(t * fps)) for t in plan.timestamps]
    return sample_image_frames(
        [files[i] for i in picks], [i / fps for i in picks], policy,
        duration=duration, fps=fps, frame_count=len(files), uri=os.fspath(folder),
    )
