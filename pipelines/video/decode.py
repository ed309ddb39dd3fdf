"""Decode a video's planned frames, verified, in an isolated worker; re-plan when headers lied.

Flow (each step bounded by what is left of the per-video timeout):
1. Plan on the header's duration and fps (`probe`). Without them (or when requested frame times
   lie past the header's end), ask decord's packet index first.
2. Decode in a worker (`decord_job.decode`). decord indexes every packet on open; if that index
   ends far from the header's duration, nothing is decoded and the plan is redone on the index.
3. If decord cannot open the file (no_duration.webm: no duration in the container; a cut mp4),
   the video stream is copied into a fresh Matroska file with the ffmpeg CLI (no re-encoding,
   so the pixels are the same) and decord tries that. decord stays the only decoder. The copy
   leaves out the packets the demuxer flags corrupt (the partial last packet of a cut file):
   decord decodes ahead in a thread, and whether a broken packet's error surfaces before or after
   the frames planned just before it is a race (it failed about 1 run in 20 on a cut mp4).
4. If frames stop decoding before the index ends (packets that do not decode), the decodable
   frames are counted and the plan is redone once on that real duration.
5. Every returned frame must sit within one frame interval of its planned time; otherwise
   "frames_missing". The timestamps stored are those of the frames really decoded.
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from pipelines.video import decord_job
from pipelines.video.errors import VideoError
from pipelines.video.plan import FramePlan, plan_frames
from pipelines.video.policy import FramePolicy
from pipelines.video.probe import Probe
from pipelines.video.worker import WorkerPool, default_pool


@dataclass(frozen=True)
class Decoded:
    plan: FramePlan
    frames: list[bytes]          # JPEG, plan.width x plan.height
    timestamps: list[float]      # seconds of the frames really decoded
    duration: float              # end of the last indexed frame (of the last decodable one, if fewer)
    fps: float                   # measured from the packet times (the header's if a single frame)
    frame_count: int             # frames in the index (or that really decode, when fewer)


class _Clock:
    def __init__(self, timeout_s: float) -> None:
        self.timeout_s, self.deadline = timeout_s, time.monotonic() + timeout_s

    def left(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise VideoError("decode_timeout", f"video not done within {self.timeout_s:.1f} s")
        return left


def remux(source: str, out_dir: str, timeout_s: float) -> str:
    """Copy the first video stream into a new Matroska file (rebuilt header, the same packets but
    those the demuxer flags corrupt)."""
    target = str(Path(out_dir) / "video.mkv")
    cmd = ["ffmpeg", "-nostdin", "-v", "error", "-y", "-fflags", "+discardcorrupt", "-i", source, "-map", "0:v:0",
           "-c", "copy", "-f", "matroska", target]
    try:
        done = subprocess.run(cmd, capture_output=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        raise VideoError("decode_timeout", f"stream copy took more than {timeout_s:.1f} s") from None
    if done.returncode != 0 or not Path(target).is_file():
        why = done.stderr.decode(errors="replace").strip().splitlines()
        raise VideoError("decode_failed", f"decord cannot open it and ffmpeg cannot copy it: {why[-1] if why else done.returncode}")
    return target


def verify(planned: Sequence[float], decoded: Sequence[float], tolerance: float) -> None:
    """Every planned time has a decoded frame within `tolerance` seconds, in order."""
    if len(decoded) != len(planned):
        raise VideoError("frames_missing", f"{len(decoded)} of {len(planned)} planned frames decoded")
    worst = max((abs(a - b) for a, b in zip(planned, decoded)), default=0.0)
    if worst > tolerance:
        raise VideoError("frames_missing", f"a decoded frame is {worst:.3f} s from its planned time (> {tolerance:.3f} s)")


def decode_video(
    path: str,
    probe: Probe,
    policy: FramePolicy,
    timestamps: Sequence[float] | None,
    timeout_s: float,
    pool: WorkerPool | None = None,
) -> Decoded:
    """The planned frames of `path`, decoded and verified (see the module docstring)."""
    pool = pool or default_pool()
    clock = _Clock(timeout_s)
    with tempfile.TemporaryDirectory(prefix="vrft-video-") as tmp:
        source, remuxed = str(path), False
        duration, fps = probe.duration, probe.fps
        header_end = duration       # compared with decord's index before any decoding
        replanned, real_count = False, 0
        while True:
            beyond = timestamps is not None and header_end is not None and max(timestamps, default=0) > header_end
            if duration is None or fps is None or beyond:  # no header, or one that may be short
                facts = pool.call(decord_job.decode, source, None, timeout_s=clock.left())
                if not facts["opened"] and not remuxed:
                    source, remuxed = remux(source, tmp, clock.left()), True
                    continue
                _check_opened(facts)
                duration, fps, header_end = facts["end"], facts["fps"] or fps, None
            plan = plan_frames(duration, fps, probe.width, probe.height, policy, timestamps)
            got = pool.call(
                decord_job.decode, source, list(plan.timestamps), plan.width, plan.height,
                header_end, policy.jpeg_quality, timeout_s=clock.left(),
            )
            if not got["opened"] and not remuxed:
                source, remuxed, duration, fps = remux(source, tmp, clock.left()), True, None, None
                continue
            _check_opened(got)
            if got.get("mismatch"):
                # the container's duration disagrees with its own packets: trust the packets
                duration, fps, header_end = got["end"], got["fps"] or fps, None
                continue
            if not got["complete"] and not replanned:
                real_end, real_count = _decodable(pool, source, clock)
                if real_end < duration:
                    duration, header_end, replanned = real_end, None, True
                    continue
            if not got["complete"]:
                why = f" ({got['error']})" if got.get("error") else ""
                raise VideoError("frames_missing", f"{len(got['frames'])} of {len(plan.timestamps)} planned frames decoded{why}")
            verify(plan.timestamps, got["timestamps"], tolerance=max(got["interval"] or 0.0, 1e-3))
            return Decoded(
                plan=plan,
                frames=got["frames"],
                timestamps=got["timestamps"],
                duration=duration if replanned else got["end"],
                fps=got["fps"] or fps,
                frame_count=real_count if replanned else got["count"],
            )


def _check_opened(facts: dict) -> None:
    if not facts["opened"]:
        raise VideoError("decode_failed", f"decord cannot open it: {facts['error']}")
    if not facts["count"]:
        raise VideoError("frames_missing", "the video stream has no frames")


def _decodable(pool: WorkerPool, source: str, clock: _Clock) -> tuple[float, int]:
    """End time and count of the frames that really decode, counted from the start."""
    facts = pool.call(decord_job.count_decodable, source, timeout_s=clock.left())
    _check_opened(facts)
    n = facts["decodable"]
    if n < 2:
        raise VideoError("too_few_frames", f"only {n} frame(s) decode")
    return facts["starts"][n - 1] + (facts["interval"] or 0.0), n
