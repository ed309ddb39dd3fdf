"""Synthetic training shards (what `vrft mix` writes): tiny videos with real-looking rows, for tests and benches.

Each video is a few JPEG frames (on the 28-pixel grid) of a bright square moving over a coloured
background; each row is a temporal-grounding sample built with `schemas.training_row`, so the shard is
exactly what `vrft mix` writes.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

import schemas
from pipelines import storage
from pipelines.parquet import write_rows

QUERIES = (
    "the person opens the door", "a man sits on the sofa", "she picks up the book",
    "the dog runs across the grass", "someone closes the laptop", "a woman takes off her shoes",
)


def toy_frames(seed: int, count: int = 4, height: int = 56, width: int = 84) -> list[bytes]:
    """`count` JPEG frames: a white square moving left to right over a background coloured by `seed`."""
    rng = np.random.default_rng(seed)
    background = rng.integers(0, 200, size=3)
    out = []
    for i in range(count):
        frame = np.empty((height, width, 3), dtype=np.uint8)
        frame[:] = background
        x = int(i * (width - 14) / max(count - 1, 1))
        frame[height // 2 - 7 : height // 2 + 7, x : x + 14] = 255
        buf = io.BytesIO()
        Image.fromarray(frame).save(buf, format="JPEG", quality=90)
        out.append(buf.getvalue())
    return out


def toy_row(index: int, frames: int = 4, fps: float = 2.0, think: bool = True, **frame_kw: Any) -> dict[str, Any]:
    """One training row (temporal grounding) for sample `index`."""
    duration = frames / fps
    start = round((index % 3) * duration / 4, 2)
    sample = {
        "sample_id": f"toy-{index:05d}", "task": "temporal_grounding", "dataset": "toy", "split": "train",
        "video_key": f"toy/video-{index % 7}", "query": QUERIES[index % len(QUERIES)], "duration": duration,
        "span": {"start": start, "end": round(start + duration / 4, 2)},
    }
    jpegs = toy_frames(index, frames, **frame_kw)
    height, width = frame_kw.get("height", 56), frame_kw.get("width", 84)
    video = schemas.frame_columns(jpegs, [i / fps for i in range(frames)], fps, width, height)
    return schemas.training_row(sample, schemas.video_entry(video), think=think, index=index)


def write_shard(path: str | Path, rows: list[dict[str, Any]], row_group_size: int = 4) -> Path:
    """Write rows with the training schema, `row_group_size` rows per row group, atomically."""
    write_rows(str(path), rows, schemas.training_schema(), media_columns=("videos",), media_statistics=False,
               max_group_rows=row_group_size)
    return Path(path)


def write_toy_shards(folder: str | Path, rows: int = 16, files: int = 2, **row_kw: Any) -> list[Path]:
    """`rows` toy rows split over `files` Parquet shards in `folder`, with a manifest.json naming them as
    `vrft mix` writes one (the trainer refuses a folder of shards without it)."""
    per = -(-rows // files)
    paths = [
        write_shard(Path(folder) / f"part-{k:05d}.parquet", [toy_row(i, **row_kw) for i in range(k * per, min(rows, (k + 1) * per))])
        for k in range(files)
    ]
    shards = [{"file": p.name, "rows": min(rows, (k + 1) * per) - k * per} for k, p in enumerate(paths)]
    storage.write_json(str(Path(folder) / "manifest.json"), {"recipe": "toy", "rows": rows, "shards": shards}, indent=1)
    return paths
