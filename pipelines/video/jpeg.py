"""Frames to JPEG bytes: one encoder for every source, so frames look alike whatever decoded them."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image


def to_rgb(image: Image.Image) -> Image.Image:
    """RGB; transparency is composited over white (as the Qwen reference does for images)."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        image = image.convert("RGBA")
        canvas = Image.new("RGB", image.size, (255, 255, 255))
        canvas.paste(image, mask=image.getchannel("A"))
        return canvas
    return image.convert("RGB") if image.mode != "RGB" else image


def encode_jpeg(frame: np.ndarray | Image.Image, quality: int) -> bytes:
    """JPEG bytes of an RGB frame (H x W x 3 uint8 array or a PIL image)."""
    image = Image.fromarray(frame) if isinstance(frame, np.ndarray) else to_rgb(frame)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=quality)
    return out.getvalue()
