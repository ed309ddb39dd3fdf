"""The video processor's pixel values, made on the model's device from uint8 frames.

The Qwen2-VL-family video processor turns frames into float patches on the CPU: rescale + normalize
(most of its time), then a reshape into [N, C * Tp * P * P] rows ordered by temporal patch, merge window,
then patch. Patchifying is only a permutation of the bytes and normalizing is one affine op per channel,
so neither needs the CPU: `video_pixels` moves the decoded uint8 frames to the model's device (4x fewer
bytes than floats), patchifies them there and normalizes all of a step's patches in one op, with the
processor's arithmetic (the same float32 values). Sizes and constants come from the processor's config
(`PixelSpec.of`); tests/train/test_patches.py proves the result equals the processor's output.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch


@dataclass(frozen=True)
class PixelSpec:
    """What the video processor does to frames: patch geometry, then (x - shift_c) / div_c in float32."""

    patch_size: int
    temporal_patch_size: int
    merge_size: int
    shift: tuple[float, ...]   # per channel, in the units of the uint8 input
    div: tuple[float, ...]

    @classmethod
    def of(cls, video_processor) -> "PixelSpec":
        """Read from the processor's config; shift/div computed as its fused rescale + normalize computes them."""
        vp = video_processor
        channels = len(vp.image_mean)
        mean, std = torch.tensor(vp.image_mean), torch.tensor(vp.image_std)
        if vp.do_rescale and vp.do_normalize:   # (x - mean / r) / (std / r), r = rescale_factor
            mean, std = mean * (1.0 / vp.rescale_factor), std * (1.0 / vp.rescale_factor)
        elif vp.do_rescale:                     # x * r (here x / (1 / r): equal within one float32 ulp)
            mean, std = torch.zeros(channels), torch.full((channels,), 1.0 / vp.rescale_factor)
        elif not vp.do_normalize:
            mean, std = torch.zeros(channels), torch.ones(channels)
        return cls(vp.patch_size, vp.temporal_patch_size, vp.merge_size, tuple(mean.tolist()), tuple(std.tolist()))

    @property
    def grid_factor(self) -> int:
        """Frame sides must be multiples of this (a merge window of patches)."""
        return self.patch_size * self.merge_size

    def grid(self, frames: int, height: int, width: int) -> tuple[int, int, int]:
        """(temporal, height, width) patch counts; an incomplete last temporal patch is padded, so it counts."""
        return -(-frames // self.temporal_patch_size), height // self.patch_size, width // self.patch_size


def patchify(frames: torch.Tensor, spec: PixelSpec) -> torch.Tensor:
    """[T, H, W, C] -> [N, C * Tp * P * P] (same dtype and device) in the processor's patch order.

    N = grid_t * grid_h * grid_w rows ordered (t, h-window, w-window, h-in-window, w-in-window); each row
    is (channel, frame-in-patch, y, x). T is padded to a multiple of Tp by repeating the last frame, as
    the processor does.
    """
    P, Tp, M = spec.patch_size, spec.temporal_patch_size, spec.merge_size
    t, h, w, c = frames.shape
    if h % (P * M) or w % (P * M):
        raise ValueError(f"frames {w}x{h} are not on the {P * M}-pixel grid")
    if pad := -t % Tp:
        frames = torch.cat([frames, frames[-1:].expand(pad, -1, -1, -1)])
        t += pad
    x = frames.reshape(t // Tp, Tp, h // (P * M), M, P, w // (P * M), M, P, c)
    x = x.permute(0, 2, 5, 3, 6, 8, 1, 4, 7)  # t, h-window, w-window, h-in, w-in, C, Tp, y, x
    return x.reshape(-1, c * Tp * P * P)


def normalize(patches: torch.Tensor, spec: PixelSpec, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """[N, C * K] uint8 -> [N, C * K] `dtype`: (x - shift_c) / div_c in float32, the processor's arithmetic."""
    n, c = patches.shape[0], len(spec.shift)
    shift = torch.tensor(spec.shift, dtype=torch.float32, device=patches.device).view(1, c, 1)
    div = torch.tensor(spec.div, dtype=torch.float32, device=patches.device).view(1, c, 1)
    out = patches.view(n, c, -1).to(torch.float32).sub_(shift).div_(div)  # one float buffer, in place
    return out.view(n, -1).to(dtype)


def video_pixels(
    videos: Sequence[np.ndarray], spec: PixelSpec, device: torch.device, dtype: torch.dtype = torch.float32,
) -> list[torch.Tensor]:
    """uint8 [T, H, W, C] frames of several videos -> each video's pixel values [N_i, D] on `device`:
    moved as uint8, patchified there, and normalized all together in one op."""
    patches = [patchify(torch.from_numpy(v).to(device, non_blocking=True), spec) for v in videos]
    return list(normalize(torch.cat(patches), spec, dtype).split([p.shape[0] for p in patches]))
