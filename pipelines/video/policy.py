"""How a video becomes model frames: the paper's defaults (VideoChat-R1 on Qwen2.5-VL)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

PATCH = 28 * 28  # pixels of one visual token after the 2x2 merge (14-pixel patches)


@dataclass(frozen=True)
class FramePolicy:
    """Frame sampling and sizing. Pixel counts are per frame except `total_pixels`.

    `total_pixels` is counted as the model counts it: two frames share one temporal patch, so a
    plan of n frames of h*w pixels costs h*w*n/2 (3584*28*28 = about 3,584 visual tokens).
    """

    target_fps: float = 2.0
    min_frames: int = 4
    max_frames: int = 768
    min_pixels: int = 16 * PATCH
    max_pixels: int = 768 * PATCH
    total_pixels: int = 3584 * PATCH
    factor: int = 28
    jpeg_quality: int = 90

    def __post_init__(self) -> None:
        problems = []
        if not self.target_fps > 0:
            problems.append("target_fps must be > 0")
        if not 1 <= self.min_frames <= self.max_frames:
            problems.append("need 1 <= min_frames <= max_frames")
        if not 0 < self.min_pixels <= self.max_pixels:
            problems.append("need 0 < min_pixels <= max_pixels")
        if self.total_pixels < self.min_pixels:
            problems.append("total_pixels must be >= min_pixels")
        if self.factor < 2:
            problems.append("factor must be >= 2")
        if not 1 <= self.jpeg_quality <= 100:
            problems.append("jpeg_quality must be in 1..100")
        if problems:
            raise ValueError("invalid FramePolicy: " + "; ".join(problems))

    def to_struct(self) -> dict:
        """The `plan` column of the videos table (`schemas.tables.PLAN_TYPE`): the whole policy."""
        return asdict(self)
