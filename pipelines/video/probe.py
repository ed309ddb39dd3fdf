"""What the container says about its video stream (ffprobe). Headers lie; decoding checks them.

This is the command `ffmpeg.probe` (ffmpeg-python 0.2) runs, called here with a timeout: that
release's `probe` has none, and a probe must not hang a pipeline on a hostile file.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
from dataclasses import dataclass
from fractions import Fraction

from pipelines.video.errors import VideoError

PROBE_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Probe:
    duration: float | None    # seconds: the video stream's, else the container's; None if absent
    fps: float | None         # average frame rate, else the nominal one
    width: int                # as displayed: swapped for a 90/270 degree rotation (phones),
    height: int               #   which decord applies to the frames as players do
    frame_count: int | None   # as the header states it; None if absent
    codec: str
    rotation: int = 0         # display rotation in degrees as ffprobe states it (0, 90, 180, 270)


def check_file(path: str | os.PathLike) -> None:
    """Reject a missing or empty file before any tool looks at it."""
    if not os.path.isfile(path):
        raise VideoError("video_missing", f"no file at {os.fspath(path)}")
    if os.path.getsize(path) == 0:
        raise VideoError("video_empty_file", f"{os.fspath(path)} has 0 bytes")


def ffprobe_json(path: str | os.PathLike, *extra: str, timeout_s: float = PROBE_TIMEOUT_S) -> dict:
    """ffprobe's JSON for `path`; any failure is a VideoError("probe_failed")."""
    cmd = ["ffprobe", "-v", "error", "-of", "json", *extra, os.fspath(path)]
    try:
        done = subprocess.run(cmd, capture_output=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        raise VideoError("probe_failed", f"ffprobe took more than {timeout_s:.0f} s") from None
    except OSError as e:
        raise VideoError("probe_failed", f"cannot run ffprobe: {e}") from None
    if done.returncode != 0:
        why = done.stderr.decode(errors="replace").strip().splitlines()
        raise VideoError("probe_failed", why[-1] if why else f"ffprobe exit status {done.returncode}")
    try:
        return json.loads(done.stdout)
    except ValueError:
        raise VideoError("probe_failed", "ffprobe printed no JSON") from None


def _number(value) -> float | None:
    try:
        x = float(Fraction(str(value))) if "/" in str(value) else float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return x if math.isfinite(x) and x > 0 else None


def _clock(value) -> float | None:
    """Matroska's DURATION tag, "HH:MM:SS.fffffffff", in seconds."""
    try:
        h, m, s = str(value).split(":")
        return _number(int(h) * 3600 + int(m) * 60 + float(s))
    except ValueError:
        return None


def _rotation(stream: dict, tags: dict) -> int:
    """The display rotation: the display matrix's (side data) or an old-style `rotate` tag."""
    for side in stream.get("side_data_list") or []:
        if "rotation" in side:
            return round(float(side["rotation"])) % 360
    try:
        return round(float(tags.get("ROTATE", 0))) % 360
    except ValueError:
        return 0


def parse_probe(info: dict) -> Probe:
    """The facts of the first real video stream (cover art is skipped) from ffprobe's JSON."""
    streams = [
        s
        for s in info.get("streams", [])
        if s.get("codec_type") == "video" and not s.get("disposition", {}).get("attached_pic")
    ]
    if not streams:
        raise VideoError("no_video_stream", "the container has no video stream")
    s = streams[0]
    tags = {k.upper(): v for k, v in (s.get("tags") or {}).items()}
    duration = _number(s.get("duration")) or _clock(tags.get("DURATION")) or _number(info.get("format", {}).get("duration"))
    frames = _number(s.get("nb_frames"))
    width, height, rotation = int(s.get("width") or 0), int(s.get("height") or 0), _rotation(s, tags)
    if rotation in (90, 270):
        width, height = height, width
    return Probe(
        duration=duration,
        fps=_number(s.get("avg_frame_rate")) or _number(s.get("r_frame_rate")),
        width=width,
        height=height,
        frame_count=int(frames) if frames else None,
        codec=str(s.get("codec_name") or "unknown"),
        rotation=rotation,
    )


def probe(path: str | os.PathLike) -> Probe:
    """Container facts of `path`'s video stream, as its header states them."""
    check_file(path)
    return parse_probe(ffprobe_json(path, "-show_format", "-show_streams"))
