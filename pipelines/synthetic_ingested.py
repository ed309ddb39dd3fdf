"""Synthetic ingestion folders (what `vrft ingest` writes), with realistic labels and small real JPEG frames.

The folder has exactly the layout and schemas `vrft ingest` writes (samples/, videos/, rejects/,
manifest.json), so validation and mixing can be exercised at any size without video files (tests,
benchmarks). Every video's frames are distinct (the video's number is drawn into them), so a wrong
join is visible. (The other two layers: `pipelines.synthetic_raw` makes a raw video dataset, the input
of `vrft ingest`; `train.synthetic_training_shards` writes training shards, what `vrft mix` writes.)
"""

from __future__ import annotations

import io
from typing import Any, Sequence

import numpy as np
from PIL import Image

import schemas
from pipelines import layout, storage
from pipelines.parquet import write_rows

TASKS = ("temporal_grounding", "grounded_qa", "video_qa", "tracking")
WORDS = "person opens closes door drawer takes cup phone laptop sits chair walks table puts book bag".split()


def jpeg(width: int, height: int, video: int, frame: int) -> bytes:
    y, x = np.mgrid[0:height, 0:width]
    img = np.stack([(x * 4 + video * 37) % 256, (y * 4 + frame * 29) % 256, np.full_like(x, (video * 11) % 256)], -1)
    buf = io.BytesIO()
    Image.fromarray(img.astype(np.uint8)).save(buf, format="JPEG", quality=80)
    return buf.getvalue()


def plan(frame_pixels: int) -> dict[str, Any]:
    """A frame policy whose budgets these small frames satisfy."""
    return {"target_fps": 2.0, "min_frames": 2, "max_frames": 768, "min_pixels": 28 * 28,
            "max_pixels": frame_pixels * 4, "total_pixels": frame_pixels * 256, "factor": 28, "jpeg_quality": 90}


def make_videos(n: int, n_frames: int = 4, size: tuple[int, int] = (56, 56), seed: int = 0, prefix: str = "vid") -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    w, h = size
    out = []
    for i in range(n):
        duration = float(np.round(rng.uniform(8, 60), 3))
        ts = [float(t) for t in np.round(np.linspace(0, duration - 0.5, n_frames), 3)]
        out.append({
            "video_key": f"{prefix}{i:06d}", "uri": f"synthetic://{prefix}{i:06d}.mp4", "duration": duration,
            "fps": 25.0, "width": w * 4, "height": h * 4, "frame_count": int(duration * 25), "codec": "h264",
            "plan": plan(w * h),
            **schemas.frame_columns([jpeg(w, h, i, k) for k in range(n_frames)], ts, (n_frames - 1) / (ts[-1] - ts[0]), w, h),
        })
    return out


def _down(x: float) -> float:
    """Two decimals, rounded down: an end rounded up could pass the video's end."""
    return float(np.floor(x * 100) / 100)


def _labels(task: str, video: dict[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    d = video["duration"]
    if task == "temporal_grounding":
        start = _down(rng.uniform(0, d * 0.7))
        return {"span": {"start": start, "end": _down(min(d, start + rng.uniform(2, d * 0.3 + 2)))}}
    if task in ("grounded_qa", "video_qa"):
        out: dict[str, Any] = {"choices": [f"option {k} " + " ".join(rng.choice(WORDS, 3)) for k in range(5)],
                               "answer_index": int(rng.integers(0, 5))}
        if task == "grounded_qa":
            s = _down(rng.uniform(0, d * 0.6))
            out["spans"] = [{"start": s, "end": _down(min(d, s + rng.uniform(1, d * 0.3)))}]
        return out
    x, y = rng.uniform(0.1, 0.5, 2)
    boxes = []
    for t in video["timestamps"]:
        x, y = float(np.clip(x + rng.normal(0, 0.02), 0, 0.6)), float(np.clip(y + rng.normal(0, 0.02), 0, 0.6))
        boxes.append({"t": t, "x0": round(x, 4), "y0": round(y, 4), "x1": round(x + 0.3, 4), "y1": round(y + 0.3, 4)})
    return {"boxes": boxes}


def make_samples(
    videos: Sequence[dict[str, Any]], n: int, tasks: Sequence[str] = TASKS, seed: int = 0,
    dataset: str = "synthetic", split: str = "train",
) -> list[dict[str, Any]]:
    """n samples on the given videos, tasks in turn; ~10% carry a recorded repair."""
    rng = np.random.default_rng(seed + 1)
    out = []
    for i in range(n):
        task, video = tasks[i % len(tasks)], videos[int(rng.integers(0, len(videos)))]
        query = "the object" if task == "tracking" else " ".join(rng.choice(WORDS, int(rng.integers(4, 10)))) + "."
        row = {"sample_id": f"{dataset}-{split}-{i:07d}", "task": task, "dataset": dataset, "split": split,
               "video_key": video["video_key"], "query": query, "duration": video["duration"],
               "source_file": f"{dataset}_{split}.txt", "source_key": f"line {i + 1}",
               "repairs": ["span_end_clipped"] if rng.random() < 0.1 else []}
        out.append({**row, **_labels(task, video, rng)})
    return out


def write_ingested(
    out: str, samples: Sequence[dict[str, Any]], videos: Sequence[dict[str, Any]] | None,
    rejects: Sequence[dict[str, Any]] = (), frames: bool = True, sample_files: int = 1,
) -> str:
    """An ingestion folder holding exactly these rows, with a manifest counted from them."""
    per = -(-len(samples) // sample_files) if samples else 1
    for k in range(sample_files if samples else 0):
        part = samples[k * per:(k + 1) * per]
        write_rows(layout.part_path(out, "samples", k, sample_files), part, schemas.samples_schema())
    if videos:  # a table with no rows is not written (HF datasets cannot load one)
        write_rows(layout.part_path(out, "videos", 0, 1), videos, schemas.videos_schema(), media_columns=("frames",))
    if rejects:
        full = [{f.name: r.get(f.name) for f in schemas.rejects_schema()} for r in rejects]
        write_rows(layout.part_path(out, "rejects", 0, 1), full, schemas.rejects_schema())
    repaired: dict[str, int] = {}
    for s in samples:
        for r in s.get("repairs") or []:
            repaired[r] = repaired.get(r, 0) + 1
    rejected: dict[str, int] = {}
    for r in rejects:
        rejected[r["reason"]] = rejected.get(r["reason"], 0) + 1
    manifest = {
        "schema_version": schemas.SCHEMA_VERSION,
        "counts": {"input": len(samples) + len(rejects), "written": len(samples),
                   "repaired": sum(1 for s in samples if s.get("repairs")), "rejected": len(rejects)},
        "repaired_by_reason": repaired, "rejected_by_reason": rejected,
        "options": {"dataset": "synthetic", "frames": frames}, "versions": {}, "timings": {},
    }
    storage.write_json(layout.manifest_path(out), manifest, indent=1)
    return out


def synthetic_dataset(
    out: str, n_samples: int, n_videos: int, tasks: Sequence[str] = TASKS, seed: int = 0, n_frames: int = 4,
    size: tuple[int, int] = (56, 56), dataset: str = "synthetic", split: str = "train", prefix: str = "vid",
) -> str:
    videos = make_videos(n_videos, n_frames, size, seed, prefix)
    return write_ingested(out, make_samples(videos, n_samples, tasks, seed, dataset, split), videos)
