"""Training shards -> decoded examples, read in order from a position, decoded ahead by a worker thread.

The shards (`schemas.training_schema()`, written by `vrft mix`) already hold each example's frames as
JPEG bytes on the model's pixel grid with their timestamps and sampled fps, so reading is: Parquet row ->
decode a few JPEGs -> numpy. No video is ever decoded here. The position is a global row index over the
shard files in sorted order (repeated for each epoch), so a checkpoint can resume exactly.

Integrity: every frame is checked against the CRC-32 written at ingest (and carried by `vrft mix`)
before it is decoded, and every frame time must be finite. A row that fails stops the run with a
`ShardDataError` naming the shard file, the row and the sample (exit 2 from `vrft train`), rather than
being skipped: a corrupted shard is a storage fault that `vrft validate` on the ingestion folders and a
new `vrft mix` repair, and training on a silently thinner mixture would change the recipe.

`max_frames` thins a video at training time (shards of real videos hold 60-90 frames; a CPU step on
them takes minutes): an even number of the stored frames, spread evenly, first and last kept, with
their own timestamps, and the fps the model is told recomputed from those timestamps exactly as
ingestion computes it, so the model's time positions still match the frames' real times. Frames a
label is drawn on (a box track's) are never thinned: the answer names one box per frame.
"""

from __future__ import annotations

import dataclasses
import glob
import io
import json
import queue
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

import schemas
from schemas.errors import UserError

COLUMNS = ["sample_id", "task", "video_key", "prompt", "videos", "reward_model"]
WHERE = "_where"                # added to each row read: "SHARD row N", for messages


class ShardDataError(UserError):
    """A training row that must not reach the model (corrupted frames, no frames, times not finite): the
    command line reports it as bad input (exit 2), naming the shard, the row and the sample."""


@dataclass
class Example:
    """One training row, decoded."""

    index: int                      # global position in the stream (epochs included)
    sample_id: str
    task: str
    video_key: str
    messages: list[dict[str, str]]  # chat messages; the user turn opens with schemas.VIDEO_PLACEHOLDER
    frames: np.ndarray              # [T, H, W, 3] uint8
    timestamps: list[float]         # [T] seconds
    fps: float                      # sampled fps the model is told (second_per_grid_ts = 2 / fps)
    truth: dict[str, Any]           # json.loads(reward_model.ground_truth)


def shard_files(spec: str) -> list[Path]:
    """A folder (all *.parquet below it) or a glob, sorted; raises FileNotFoundError when empty."""
    path = Path(spec)
    files = sorted(path.rglob("*.parquet")) if path.is_dir() else sorted(Path(p) for p in glob.glob(spec))
    if not files:
        raise FileNotFoundError(f"no training shards (*.parquet) at {spec}")
    return files


def decode_frames(jpegs: list[bytes]) -> np.ndarray:
    """JPEG bytes -> [T, H, W, 3] uint8; every frame must have the same size."""
    from PIL import Image

    frames = []
    for data in jpegs:
        image = Image.open(io.BytesIO(data))
        image.load()
        frames.append(np.asarray(image if image.mode == "RGB" else image.convert("RGB")))  # convert() copies
    shapes = {f.shape for f in frames}
    if len(shapes) != 1:
        raise ValueError(f"frames of different sizes in one video: {sorted(shapes)}")
    return np.stack(frames)


def even_indices(count: int, limit: int) -> list[int]:
    """Indices of at most `limit` of `count` frames, spread evenly with the first and last kept; the
    kept count is even (two frames make one temporal patch) and at least 2. All when limit <= 0 or
    count <= limit."""
    if limit <= 0 or count <= limit:
        return list(range(count))
    n = max(2, limit - limit % 2)
    return [round(i * (count - 1) / (n - 1)) for i in range(n)]


def thin_frames(timestamps: list[float], fps: float, max_frames: int) -> tuple[list[int], list[float], float]:
    """(kept indices, their timestamps, the fps to tell the model) for at most `max_frames` frames.
    Unthinned videos keep their stored fps; thinned ones get (n - 1) / (last - first) of the kept
    frames, the rule ingestion stores (`pipelines.video.row.sampled_fps`)."""
    from pipelines.video.row import sampled_fps

    keep = even_indices(len(timestamps), max_frames)
    if len(keep) == len(timestamps):
        return keep, list(timestamps), fps
    kept = [timestamps[i] for i in keep]
    return keep, kept, sampled_fps(kept, fps)


def labels_on_frames(task: str, truth: dict[str, Any]) -> bool:
    """True when the sample's labels are drawn on its stored frames (a box track): never thinned."""
    return schemas.get_task(task).frame_times(truth) is not None


def thin_example(example: Example, max_frames: int) -> Example:
    """The example with at most `max_frames` of its frames (`thin_frames`)."""
    keep, timestamps, fps = thin_frames(example.timestamps, example.fps, max_frames)
    return dataclasses.replace(example, frames=example.frames[keep], timestamps=timestamps, fps=fps)


def decode_row(index: int, row: dict[str, Any], max_frames: int = 0) -> Example:
    """The row's frames checked (schemas.stored_video) and decoded; ShardDataError names the row. With
    `max_frames` > 0 only the frames `thin_frames` keeps are decoded (all when the labels sit on them)."""
    where = f"{row.get(WHERE) or f'row {index}'} (sample {row['sample_id']})"
    try:
        video = schemas.stored_video(row)
    except schemas.FrameError as err:
        raise ShardDataError(f"{where}: {err}; run `vrft validate` on its ingestion folder and mix again") from None
    if video is None:
        raise ShardDataError(f"{where}: no frames (a labels-only source mixed with `frames: optional`)")
    truth = json.loads(row["reward_model"]["ground_truth"])
    if max_frames and not labels_on_frames(row["task"], truth):
        keep, timestamps, fps = thin_frames(video.timestamps, video.fps, max_frames)
    else:
        keep, timestamps, fps = list(range(len(video.timestamps))), video.timestamps, video.fps
    return Example(
        index=index,
        sample_id=row["sample_id"],
        task=row["task"],
        video_key=row.get("video_key") or "",
        messages=[dict(m) for m in row["prompt"]],
        frames=decode_frames([video.frames[i] for i in keep]),
        timestamps=timestamps,
        fps=fps,
        truth=truth,
    )


def count_rows(files: list[Path]) -> list[int]:
    import pyarrow.parquet as pq

    return [pq.ParquetFile(f).metadata.num_rows for f in files]


def iter_rows(files: list[Path], start: int = 0, epochs: int = 1) -> Iterator[tuple[int, dict[str, Any]]]:
    """(global index, raw row) from `start` on, skipping whole files and row groups without reading them."""
    import pyarrow.parquet as pq

    sizes = count_rows(files)
    index = 0
    for _ in range(epochs):
        for path, size in zip(files, sizes):
            if index + size <= start:
                index += size
                continue
            pf, first = pq.ParquetFile(path), index
            for g in range(pf.metadata.num_row_groups):
                n = pf.metadata.row_group(g).num_rows
                if index + n <= start:
                    index += n
                    continue
                for row in pf.read_row_group(g, columns=COLUMNS).to_pylist():
                    if index >= start:
                        yield index, {**row, WHERE: f"{path.name} row {index - first}"}
                    index += 1


class Prefetcher:
    """Runs `make(index, row)` over the rows owned by this process in a thread, `depth` items ahead.

    Rows are dealt to processes in blocks of `block` (the prompts per step), so process r of w reads
    rows whose block number is r modulo w. Errors in the worker are raised in the consumer.
    """

    _END = object()

    def __init__(
        self,
        files: list[Path],
        make: Callable[[int, dict[str, Any]], Any],
        start: int = 0,
        epochs: int = 1,
        depth: int = 4,
        block: int = 1,
        rank: int = 0,
        world: int = 1,
    ):
        self._queue: queue.Queue = queue.Queue(maxsize=max(depth, 1))
        self._stop = threading.Event()
        self._args = (files, make, start, epochs, block, rank, world)
        self._thread = threading.Thread(target=self._run, name="vrft-prefetch", daemon=True)
        self._thread.start()

    def _put(self, item: Any) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        files, make, start, epochs, block, rank, world = self._args
        try:
            for index, row in iter_rows(files, start, epochs):
                if (index // block) % world != rank:
                    continue
                if not self._put(make(index, row)):
                    return
            self._put(self._END)
        except BaseException as err:  # handed to the consumer
            self._put(err)

    def __iter__(self) -> "Prefetcher":
        return self

    def __next__(self) -> Any:
        item = self._queue.get()
        if item is self._END:
            self._queue.put(self._END)  # stay exhausted
            raise StopIteration
        if isinstance(item, BaseException):
            raise item
        return item

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
