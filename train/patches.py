"""Video patches as uint8 on the CPU, normalized where the model runs.

The Qwen2-VL-family video processor turns frames into float patches on the CPU: rescale + normalize
(most of its time), then a reshape into [N, C * Tp * P * P] rows ordered by temporal patch, 2x2 merge
window, then patch. Patchifying is only a permutation of the bytes, so the data worker does it on the
uint8 frames (no float math, 4x less memory to move), and `normalize_patches` applies the processor's
rescale/normalize to the assembled batch on the model's device in one vectorized op. The sizes and
constants come from the processor's own config (`PixelNorm.of`, `patch_geometry`); tests/train/
test_patches.py proves the result equals the processor's output.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class PixelNorm:
    """out = (x - shift_c) / div_c per channel, in float32: the processor's fused rescale + normalize."""

    shift: tuple[float, ...]   # per channel, in the units of the uint8 input
    div: tuple[float, ...]

    @classmethod
    def of(cls, video_processor) -> "PixelNorm":
        """Read from the processor's config, computed as its fused path computes them (bit-equal floats)."""
        vp = video_processor
        channels = len(vp.image_mean)
        mean, std = torch.tensor(vp.image_mean), torch.tensor(vp.image_std)
        if vp.do_rescale and vp.do_normalize:   # (x - mean / r) / (std / r), r = rescale_factor
            mean, std = mean * (1.0 / vp.rescale_factor), std * (1.0 / vp.rescale_factor)
        elif vp.do_rescale:                     # x * r (here x / (1 / r): equal within one float32 ulp)
            mean, std = torch.zeros(channels), torch.full((channels,), 1.0 / vp.rescale_factor)
        elif not vp.do_normalize:
            mean, std = torch.zeros(channels), torch.ones(channels)
        return cls(tuple(mean.tolist()), tuple(std.tolist()))


def patch_geometry(video_processor) -> tuple[int, int, int]:
    """(patch_size, temporal_patch_size, merge_size) from the processor's config."""
    vp = video_processor
    return vp.patch_size, vp.temporal_patch_size, vp.merge_size


def grid_thw(frames: int, height: int, width: int, patch_size: int, temporal_patch_size: int) -> tuple[int, int, int]:
    """(temporal, height, width) patch counts; a last incomplete temporal patch is padded, so it counts."""
    return -(-frames // temporal_patch_size), height // patch_size, width // patch_size


def patchify_uint8(frames: np.ndarray, patch_size: int, temporal_patch_size: int, merge_size: int) -> torch.Tensor:
    """[T, H, W, C] uint8 -> [N, C * Tp * P * P] uint8 in the processor's patch order.

    N = grid_t * grid_h * grid_w rows ordered (t, h-block, w-block, h-in-block, w-in-block); each row is
    (channel, frame-in-patch, y, x). T is padded to a multiple of Tp by repeating the last frame, as the
    processor does. H and W must be multiples of patch_size * merge_size.
    """
    P, Tp, M = patch_size, temporal_patch_size, merge_size
    t, h, w, c = frames.shape
    if h % (P * M) or w % (P * M):
        raise ValueError(f"frames {w}x{h} are not on the {P * M}-pixel grid")
    if pad := -t % Tp:
        frames = np.concatenate([frames, np.repeat(frames[-1:], pad, axis=0)])
        t += pad
    x = frames.reshape(t // Tp, Tp, h // (P * M), M, P, w // (P * M), M, P, c)
    x = x.transpose(0, 2, 5, 3, 6, 8, 1, 4, 7)  # t, h-block, w-block, h-in, w-in, C, Tp, y, x
    return torch.from_numpy(np.ascontiguousarray(x).reshape(-1, c * Tp * P * P))


def normalize_patches(
    patches: torch.Tensor, norm: PixelNorm, dtype: torch.dtype = torch.float32, device: torch.device | str | None = None,
) -> torch.Tensor:
    """[N, C * K] uint8 -> [N, C * K] `dtype` on `device`: moved as uint8, then (x - shift_c) / div_c
    in float32 over all rows at once (the processor's arithmetic, so the floats are the same)."""
    x = patches.to(device, non_blocking=True) if device is not None else patches
    n, c = x.shape[0], len(norm.shift)
    shift = torch.tensor(norm.shift, dtype=torch.float32, device=x.device).view(1, c, 1)
    div = torch.tensor(norm.div, dtype=torch.float32, device=x.device).view(1, c, 1)
    out = (x.view(n, c, -1).to(torch.float32) - shift) / div
    return out.view(n, -1).to(dtype)
