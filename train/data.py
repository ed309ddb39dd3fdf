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
"""

from __future__ import annotations

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


def decode_row(index: int, row: dict[str, Any]) -> Example:
    """The row's frames checked (schemas.stored_video) and decoded; ShardDataError names the row."""
    where = f"{row.get(WHERE) or f'row {index}'} (sample {row['sample_id']})"
    try:
        video = schemas.stored_video(row)
    except schemas.FrameError as err:
        raise ShardDataError(f"{where}: {err}; run `vrft validate` on its ingestion folder and mix again") from None
    if video is None:
        raise ShardDataError(f"{where}: no frames (a labels-only source mixed with `frames: optional`)")
    return Example(
        index=index,
        sample_id=row["sample_id"],
        task=row["task"],
        video_key=row.get("video_key") or "",
        messages=[dict(m) for m in row["prompt"]],
        frames=decode_frames(video.frames),
        timestamps=video.timestamps,
        fps=video.fps,
        truth=json.loads(row["reward_model"]["ground_truth"]),
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
