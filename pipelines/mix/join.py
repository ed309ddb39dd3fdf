"""Samples joined with their frames, written as shuffled training shards, in bounded memory.

The chosen rows already have their output position (`_pos`). Pass 1 streams each source's videos/
(only the row groups holding a video some chosen row needs, a few videos at a time), renders each
training row (`schemas.training_row`) and spills it, tagged with its position, into the bucket of its
output shard (Arrow IPC files, written whenever the buffers pass `spill_bytes`). Pass 2 reads one
bucket at a time, orders it by position and writes the shard one row group at a time. Peak memory: a
few videos, the spill budget and one shard (memory-mapped), whatever the dataset's size; the labels of
the chosen rows (polars) are the one thing that grows with it.
"""

from __future__ import annotations

import glob
import os
import shutil
from typing import Any, Container, Iterator

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

import schemas
from pipelines import layout, storage
from pipelines.ingested import Ingested
from pipelines.parquet import ParquetFileWriter

POS = "_pos"
MEDIA_COLUMN = "videos"                 # holds the JPEG bytes: stored uncompressed, PLAIN
SPILL_BYTES = 128 * 2**20
GROUP_BYTES = 32 * 2**20                # row group target in the shards (the trainer reads one at a time)
VIDEO_SLICE = 16                        # videos turned into Python objects at a time


class MixDataError(RuntimeError):
    """The ingestion folders contradict themselves (run `vrft validate` on them)."""


def spill_schema() -> pa.Schema:
    return schemas.training_schema().append(pa.field(POS, pa.int64(), nullable=False))


class Spill:
    """Training rows bucketed by output shard, on disk.

    Rows become Arrow record batches every `BATCH_ROWS` rows or a quarter of `budget` of frames (so few
    Python objects live at once, however large the frames), split by bucket as they are made; whenever
    the batches hold `budget` bytes they go to one file per bucket.
    """

    BATCH_ROWS = 256

    def __init__(self, folder: str, rows_per_shard: int, budget: int = SPILL_BYTES) -> None:
        self.folder, self.rows_per_shard, self.budget = folder, rows_per_shard, budget
        self.schema = spill_schema()
        self.rows: list[dict[str, Any]] = []
        self.pending = 0                        # frame bytes in self.rows
        self.parts: dict[int, list[pa.RecordBatch]] = {}
        self.buffered = 0
        self.files = 0
        os.makedirs(folder, exist_ok=True)

    def add(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        self.pending += sum(len(f["bytes"]) for v in row["videos"] for f in v["video"])
        if len(self.rows) >= self.BATCH_ROWS or self.pending * 4 >= self.budget:
            self._to_arrow()
            if self.buffered >= self.budget:
                self.flush()

    def _to_arrow(self) -> None:
        if not self.rows:
            return
        batch = pa.RecordBatch.from_pylist(self.rows, schema=self.schema)
        self.rows, self.pending = [], 0
        buckets = pc.divide(batch.column(POS), self.rows_per_shard)     # integer division
        order = pc.sort_indices(buckets)
        batch, buckets = batch.take(order), buckets.take(order).to_numpy()
        cuts = [0, *(np.flatnonzero(np.diff(buckets)) + 1).tolist(), len(buckets)]
        for a, b in zip(cuts, cuts[1:]):
            self.parts.setdefault(int(buckets[a]), []).append(batch.slice(a, b - a))
        self.buffered += batch.nbytes

    def flush(self) -> None:
        self._to_arrow()
        for bucket, batches in sorted(self.parts.items()):
            path = os.path.join(self.folder, f"b{bucket:06d}-{self.files:06d}.arrow")
            with pa.OSFile(path, "wb") as sink, pa.ipc.new_stream(sink, self.schema) as writer:
                writer.write_table(pa.Table.from_batches(batches, self.schema).combine_chunks())
            self.files += 1
        self.parts, self.buffered = {}, 0

    def bucket(self, b: int) -> pa.Table:
        """All rows spilled for shard b, in spill order (memory-mapped)."""
        tables = []
        for path in sorted(glob.glob(os.path.join(self.folder, f"b{b:06d}-*.arrow"))):
            # zero-copy: the table's buffers keep the map open until they are released
            tables.append(pa.ipc.open_stream(pa.memory_map(path)).read_all())
        return pa.concat_tables(tables) if tables else self.schema.empty_table()


def _row(r: dict[str, Any], video: dict[str, Any] | None, think: bool, folder: str) -> dict[str, Any]:
    try:
        return {**schemas.training_row(r, video, think=think, index=r[POS]), POS: r[POS]}
    except ValueError as err:
        raise MixDataError(f"{folder}: {err}") from None


def _frameless_rows(rows: pl.DataFrame, think: bool) -> Iterator[dict[str, Any]]:
    for r in rows.filter(~pl.col("_framed")).iter_rows(named=True):
        yield _row(r, None, think, r["_folder"])


def _video_slices(folder: str, wanted: Container[str]) -> Iterator[list[dict[str, Any]]]:
    """The wanted videos of `folder`, `VIDEO_SLICE` at a time, as dicts (streamed: see Ingested.batches)."""
    def groups(pf: pq.ParquetFile) -> list[int]:
        keys, out, at = pf.read(columns=["video_key"]).column(0).to_pylist(), [], 0
        for g in range(pf.metadata.num_row_groups):
            n = pf.metadata.row_group(g).num_rows
            if any(k in wanted for k in keys[at:at + n]):
                out.append(g)
            at += n
        return out

    columns = ["video_key", "timestamps", "sampled_fps", "frame_width", "frame_height", "frames", "frame_crc32"]
    for batch in Ingested(folder).batches("videos", columns, rows=VIDEO_SLICE, row_groups=groups):
        keys = batch.column("video_key").to_pylist()
        if any(k in wanted for k in keys):
            yield [v for v in batch.to_pylist() if v["video_key"] in wanted]


def _framed_rows(rows: pl.DataFrame, think: bool) -> Iterator[dict[str, Any]]:
    """Training rows of the chosen samples whose videos have frames, in the order of videos/."""
    framed = rows.filter(pl.col("_framed")).sort(["_folder", "video_key", POS])
    for (folder,), part in framed.group_by("_folder", maintain_order=True):
        spans = part.with_row_index("_i").group_by("video_key", maintain_order=True).agg(
            pl.col("_i").min().alias("at"), pl.len().alias("n"))
        where = {k: (a, n) for k, a, n in spans.iter_rows()}      # video -> its rows in `part`
        for found in _video_slices(folder, where):
            videos, spans_of = [], []
            for v in found:
                if v["video_key"] in where:                        # the first copy of a key wins
                    spans_of.append(where.pop(v["video_key"]))
                    videos.append(v)
            samples = iter(part[[i for at, n in spans_of for i in range(at, at + n)]].to_dicts())
            for video, (_, n) in zip(videos, spans_of):
                try:
                    entry = schemas.video_entry(video)      # every frame checked against its CRC-32
                except schemas.FrameError as err:
                    raise MixDataError(f"{folder}: video {video['video_key']}: {err} (run `vrft validate` on it)") from None
                for _ in range(n):
                    yield _row(next(samples), entry, think, folder)
        if where:
            raise MixDataError(f"{folder}: {len(where)} videos vanished from videos/ while mixing, e.g. {next(iter(where))}")


def _write_shard(table: pa.Table, order: pa.Array, path: str) -> int:
    """Write `table` in `order` (row group by row group: one group is copied at a time), atomically.
    Ingestion's encodings (zstd; JPEG columns uncompressed, PLAIN) and no min/max statistics on the
    frames, which would copy two whole JPEGs into the footer per row group."""
    schema = schemas.training_schema()
    per_row = max(1, table.nbytes // max(1, table.num_rows))
    group = max(1, GROUP_BYTES // per_row)
    with ParquetFileWriter(path, schema, media_columns=(MEDIA_COLUMN,), media_statistics=False) as writer:
        for at in range(0, table.num_rows, group):
            writer.write_table(table.take(order[at:at + group]).drop_columns([POS]).cast(schema), row_group_size=group)
    return storage.size(path)


def write_shards(rows: pl.DataFrame, out: str, rows_per_shard: int, think: bool, spill_bytes: int = SPILL_BYTES) -> list[dict[str, Any]]:
    """Write `rows` (with `_pos`) as shuffled training shards into `out`; returns [{file, rows, bytes}].

    Shards are finished in a hidden staging folder and moved into `out` together at the end, so a
    run that dies leaves no shard where the trainer looks (it reads every *.parquet below a folder).
    """
    n = len(rows)
    n_shards = -(-n // rows_per_shard)
    work = os.path.join(out, ".mixing")
    shutil.rmtree(work, ignore_errors=True)   # what a killed run left
    staging = os.path.join(work, "shards")
    os.makedirs(staging)
    spill = Spill(os.path.join(work, "spill"), rows_per_shard, spill_bytes)
    try:
        for row in _frameless_rows(rows, think):
            spill.add(row)
        for row in _framed_rows(rows, think):
            spill.add(row)
        spill.flush()
        shards = []
        for b in range(n_shards):
            table = spill.bucket(b)
            order = pc.sort_indices(table.column(POS))
            expected = list(range(b * rows_per_shard, min(n, (b + 1) * rows_per_shard)))
            if table.column(POS).take(order).to_pylist() != expected:
                raise MixDataError(f"shard {b}: rows missing or repeated after the join")
            name = layout.part_name(b, n_shards)
            size = _write_shard(table, order, layout.part_path(staging, None, b, n_shards))
            shards.append({"file": name, "rows": table.num_rows, "bytes": size})
        for shard in shards:
            storage.rename(storage.join(staging, shard["file"]), storage.join(out, shard["file"]))
        return shards
    finally:
        shutil.rmtree(work, ignore_errors=True)
