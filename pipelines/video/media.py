"""Where a sample's pixels are: a video file, or a sequence of frame images shown at known times.

Adapters name the media of a draft (`VideoFile`, `ImageSequence`); the video stage finds the file
(`locate`) and decodes it (`pipelines.video.process.decode_media`). This module imports nothing heavy:
every adapter imports it, and so does `vrft --help`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Union

from pipelines import storage
from pipelines.video.errors import VideoError

VIDEO_EXTENSIONS = (".mp4", ".webm", ".mkv", ".avi", ".mov", ".m4v")


@dataclass(frozen=True)
class VideoFile:
    """A video file under --videos, found by the first hint that exists (see `locate`)."""

    hints: tuple[str, ...] = ()

    @classmethod
    def of(cls, *hints: str) -> "VideoFile":
        return cls(tuple(h for h in hints if h))

    def locate(self, videos_dir: str | None, fallback: str | None = None) -> str:
        """The file's path; a `VideoError("video_missing")` when no hint (else `fallback`, the video
        key) names a file under `videos_dir`, `video_outside_root` when a hint climbs out of it or
        the file found resolves (through a symlink) outside it."""
        hints = list(self.hints or [str(fallback)])
        path = find_video(videos_dir, hints)
        if path is None:
            raise VideoError("video_missing", f"no file for {hints} under {videos_dir}")
        return path


@dataclass(frozen=True)
class ImageSequence:
    """Frames of an image sequence (GOT-10k) shown at these times; the whole sequence has
    `frame_count` images at `fps`."""

    paths: tuple[str, ...]
    timestamps: tuple[float, ...]
    fps: float
    frame_count: int

    @property
    def duration(self) -> float | None:
        return self.frame_count / self.fps if self.frame_count and self.fps else None

    @property
    def uri(self) -> str | None:
        return storage.parent(self.paths[0]) if self.paths else None


Media = Union[VideoFile, ImageSequence]


def find_video(videos_dir: str | None, hints: list[str]) -> str | None:
    """The first existing file among the hints: as given, with a video extension, then by base name.

    Confined to `videos_dir`: a relative hint that climbs out of it (`../x`) is refused before any
    lookup, and a file found there that resolves outside it (a symlink) is refused, not opened
    (`VideoError("video_outside_root")`). An absolute hint is looked up by its base name only."""
    if not videos_dir:
        return None
    tries: list[str] = []
    for hint in hints:
        rel = hint[2:] if hint.startswith("./") else hint
        if not os.path.isabs(rel) and storage.escapes(rel):
            raise VideoError("video_outside_root", f"{hint!r} points outside {videos_dir}")
        names = (os.path.basename(rel),) if os.path.isabs(rel) else (rel, os.path.basename(rel))
        for name in names:
            stem, ext = os.path.splitext(name)
            tries.append(name)
            if ext.lower() not in VIDEO_EXTENSIONS:
                tries.extend(name + e for e in VIDEO_EXTENSIONS)
    for rel in dict.fromkeys(t for t in tries if t not in ("", ".", "..")):
        path = storage.join(videos_dir, rel)
        if storage.exists(path):
            if not storage.inside(videos_dir, path):
                raise VideoError("video_outside_root", f"{path} resolves outside {videos_dir}")
            return path
    return None
