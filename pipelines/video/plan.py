"""Frame plans: which times to sample and at what size. Pure; no I/O.

The rule is the one of the Qwen2.5-VL reference utilities (qwen_vl_utils: `smart_nframes`,
`smart_resize` and the per-video pixel budget of `fetch_video`), restated in seconds:

- count: duration * target_fps, clamped to [min_frames, min(max_frames, frames the video has)],
  then rounded DOWN to an even count (two frames make one temporal patch);
- times: frame indices round(linspace(0, total_frames - 1, n)) of the native frame grid, in seconds
  (the decode step then takes the real frame nearest each time and stores ITS timestamp);
- size: both sides multiples of `factor` (28), aspect kept, per-frame pixels at most
  min(max_pixels, total_pixels * 2 / n), with the reference's floor of int(min_pixels * 1.05) on
  that cap, at least min_pixels.

One departure, to keep both budgets true (the reference silently overshoots them): when no size
on the grid fits [min_pixels, min(max_pixels, total_pixels * 2 / n)] (long videos: with the
paper's policy beyond about two minutes), the count drops two frames at a time until one does.
The reference instead lets min_pixels win and spends more than total_pixels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

from pipelines.video.errors import VideoError
from pipelines.video.policy import FramePolicy

FRAMES_PER_PATCH = 2   # the model's temporal patch: frame counts are even
MAX_ASPECT = 200       # the reference refuses more extreme shapes


@dataclass(frozen=True)
class FramePlan:
    timestamps: tuple[float, ...]   # seconds, ascending
    width: int                      # frame size after resizing, multiples of the policy's factor
    height: int


def _round_to(x: float, f: int) -> int:
    return round(x / f) * f   # Python's round (half to even), as the reference


def _floor_to(x: float, f: int) -> int:
    return math.floor(x / f) * f


def _ceil_to(x: float, f: int) -> int:
    return math.ceil(x / f) * f


def grid_size(height: int, width: int, factor: int, min_pixels: float, max_pixels: float) -> tuple[int, int]:
    """(h, w) on the factor grid near the source shape: the reference's `smart_resize`."""
    h = max(factor, _round_to(height, factor))
    w = max(factor, _round_to(width, factor))
    if h * w > max_pixels:
        beta = math.sqrt(height * width / max_pixels)
        h = max(factor, _floor_to(height / beta, factor))
        w = max(factor, _floor_to(width / beta, factor))
    elif h * w < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h = _ceil_to(height * beta, factor)
        w = _ceil_to(width * beta, factor)
    return h, w


def frame_cap(n_frames: int, policy: FramePolicy) -> float:
    """Largest per-frame pixel count for n frames: the per-frame cap or the video's share."""
    n_eff = _ceil_to(n_frames, FRAMES_PER_PATCH)  # the processor pads an odd count with a copy
    return min(policy.max_pixels, policy.total_pixels * FRAMES_PER_PATCH / n_eff)


def frame_size(height: int, width: int, n_frames: int, policy: FramePolicy) -> tuple[int, int] | None:
    """The reference's size for n frames, or None when it breaks [min_pixels, frame_cap]."""
    cap = frame_cap(n_frames, policy)
    h, w = grid_size(height, width, policy.factor, policy.min_pixels, max(cap, int(policy.min_pixels * 1.05)))
    return (h, w) if policy.min_pixels <= h * w <= cap else None


def frame_count(duration: float, native_fps: float, policy: FramePolicy) -> int:
    """Even number of frames to sample: the reference's `smart_nframes` on duration * fps frames."""
    total = max(1, round(duration * native_fps))
    low = _ceil_to(policy.min_frames, FRAMES_PER_PATCH)
    high = _floor_to(min(policy.max_frames, total), FRAMES_PER_PATCH)
    n = _floor_to(min(max(duration * policy.target_fps, low), high, total), FRAMES_PER_PATCH)
    if n < FRAMES_PER_PATCH:
        raise VideoError("too_few_frames", f"{total} frame(s) in {duration:.3f} s: need at least {FRAMES_PER_PATCH}")
    return n


def check_frame_size(width: int, height: int, factor: int) -> None:
    """Reject frames smaller than one vision patch (the 1x1 video) or of an absurd shape."""
    min_side = factor // 2  # one 14-pixel vision patch: below it a frame carries no visual token of its own
    if min(width, height) < min_side:
        raise VideoError("frame_too_small", f"{width}x{height} px: each side needs at least {min_side} px")
    if max(width, height) / min(width, height) > MAX_ASPECT:
        raise VideoError("aspect_ratio_too_large", f"{width}x{height} px: aspect ratio above {MAX_ASPECT}")


def _check_duration(duration: float | None) -> None:
    if duration is None or not math.isfinite(duration) or duration <= 0:
        raise VideoError("duration_unknown", f"duration {duration!r} is not a positive number of seconds")


def _check_times(timestamps: Sequence[float], duration: float) -> tuple[float, ...]:
    ts = tuple(float(t) for t in timestamps)
    if not ts:
        raise VideoError("timestamps_invalid", "no frame times given")
    if not all(math.isfinite(t) and 0 <= t <= duration + 1e-6 for t in ts):
        bad = next(t for t in ts if not (math.isfinite(t) and 0 <= t <= duration + 1e-6))
        raise VideoError("timestamps_invalid", f"frame time {bad!r} outside [0, {duration:.3f}] s")
    if any(b <= a for a, b in zip(ts, ts[1:])):
        raise VideoError("timestamps_invalid", "frame times must be strictly ascending")
    return ts


def plan_given(
    timestamps: Sequence[float], duration: float, width: int, height: int, policy: FramePolicy = FramePolicy()
) -> FramePlan:
    """Exactly these frame times (tracking: the frames its boxes sit on), sized by the same budget."""
    _check_duration(duration)
    check_frame_size(width, height, policy.factor)
    times = _check_times(timestamps, duration)
    size = frame_size(height, width, len(times), policy)
    if size is None:
        raise VideoError("plan_infeasible", f"no frame size fits {len(times)} frames in the pixel budget")
    return FramePlan(times, width=size[1], height=size[0])


def plan_frames(
    duration: float,
    native_fps: float,
    width: int,
    height: int,
    policy: FramePolicy = FramePolicy(),
    timestamps: Sequence[float] | None = None,
) -> FramePlan:
    """Plan the frames of a video of `duration` s at `native_fps`, `width` x `height` px.

    With `timestamps`, exactly those times (`plan_given`); otherwise times spread uniformly over
    the video's frames as the reference spreads them.
    """
    if timestamps is not None:
        return plan_given(timestamps, duration, width, height, policy)
    _check_duration(duration)
    if native_fps is None or not math.isfinite(native_fps) or native_fps <= 0:
        raise VideoError("fps_unknown", f"frame rate {native_fps!r} is not a positive number")
    check_frame_size(width, height, policy.factor)
    n = frame_count(duration, native_fps, policy)
    lowest = min(n, _ceil_to(policy.min_frames, FRAMES_PER_PATCH))
    while (size := frame_size(height, width, n, policy)) is None:
        n -= FRAMES_PER_PATCH
        if n < lowest:
            raise VideoError("plan_infeasible", f"no frame size fits {lowest}+ frames in the pixel budget")
    total = max(1, round(duration * native_fps))
    step = (total - 1) / (n - 1)
    times = tuple(round(i * step) / native_fps for i in range(n))
    return FramePlan(times, width=size[1], height=size[0])
