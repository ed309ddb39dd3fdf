"""WriteTable: rows -> `OUT/TABLE/part-*.parquet`, sorted within each file, in bounded memory.

Rows never wait in memory all at once (Beam's in-process runner holds a GroupByKey's whole input): each
bundle packs its rows (sort key + pickled row), spills them as sorted runs (Arrow IPC, hidden temporary
names beside the part files) every `spill_rows`, and each shard's runs are merged into its file, a row
group at a time. The order is total (sample id, source file, position, bytes), so the files are the same
whatever the bundles were. The samples writer keeps one row per sample id: records of identical content
(hence id) after the first, by file and position, leave as `duplicate_record` rejects.
"""

from __future__ import annotations

import heapq
import pickle
import re
import uuid
from typing import Any, Dict, Iterable, Iterator, Tuple

import apache_beam as beam
import pyarrow as pa
from apache_beam.transforms.window import GlobalWindows

from pipelines import layout, storage
from pipelines.ingest.rejects import DUPLICATES, duplicate_row
from pipelines.parquet import ROWS_PER_GROUP, ParquetFileWriter

Row = Dict[str, Any]


def _natural(key: str) -> tuple[Any, ...]:
    """"line 9" before "line 10": digit runs compare as numbers."""
    return tuple(int(part) if i % 2 else part for i, part in enumerate(re.split(r"(\d+)", key)))


Packed = Tuple[str, str, str, bytes]       # (sample id, source file, source key, the pickled row)
SPILL_ROWS = 20_000                        # rows a bundle holds before it spills a sorted run
RUN_BATCH = 512                           # rows per record batch of a spilled run
RUN_SCHEMA = pa.schema([("sample_id", pa.string()), ("source_file", pa.string()), ("source_key", pa.string()),
                        ("row", pa.binary())])


def _pack(row: Row) -> Packed:
    """A row as it waits for its file: its sort key and its bytes (a few hundred bytes, where a Python
    dict of the same row takes kilobytes)."""
    return (row.get("sample_id") or "", row.get("source_file") or "", row.get("source_key") or "",
            pickle.dumps(row, protocol=pickle.HIGHEST_PROTOCOL))


def _order(packed: Packed) -> tuple[Any, ...]:
    """The order of rows in a file: by id, file and position ("line 9" before "line 10"), then bytes."""
    return packed[0], packed[1], _natural(packed[2]), packed[3]


class _SpillFn(beam.DoFn):
    """Packed rows -> sorted runs on disk, one per shard every `budget` rows and at the end of a bundle;
    yields (shard, run path). Memory holds one budget of rows, whatever the table's size."""

    def __init__(self, out: str, table: str, shards: int, budget: int) -> None:
        self.out, self.table, self.shards, self.budget = out, table, shards, budget

    def start_bundle(self) -> None:
        self.buffer: dict[int, list[Packed]] = {}
        self.count = 0

    def process(self, packed: Packed) -> Iterator[Tuple[int, str]]:
        self.buffer.setdefault(layout.bucket_of(packed[0], self.shards), []).append(packed)
        self.count += 1
        if self.count >= self.budget:
            yield from self._flush()

    def finish_bundle(self) -> Iterator[Any]:
        for shard_run in self._flush():
            yield GlobalWindows.windowed_value(shard_run)

    def _flush(self) -> Iterator[Tuple[int, str]]:
        for shard, rows in sorted(self.buffer.items()):
            rows.sort(key=_order)
            path = storage.join(self.out, self.table, storage.temp_name(f"run-{shard:05d}-{uuid.uuid4().hex}.arrow"))
            columns = [pa.array(c, f.type) for c, f in zip(zip(*rows), RUN_SCHEMA)]
            with storage.atomic_open(path) as sink, pa.ipc.new_stream(sink, RUN_SCHEMA) as writer:
                writer.write_table(pa.table(columns, schema=RUN_SCHEMA), max_chunksize=RUN_BATCH)
            yield shard, path
        self.buffer, self.count = {}, 0


def _read_run(path: str) -> Iterator[Packed]:
    """A run's rows in order, a batch of `RUN_BATCH` at a time (a merge holds one batch of every run)."""
    with storage.open_read(path) as f, pa.ipc.open_stream(f) as reader:
        for batch in reader:
            yield from zip(*(batch.column(i).to_pylist() for i in range(4)))


class _MergeFn(beam.DoFn):
    """(shard, run paths) -> the shard's file: the runs merged in order, a row group at a time; the runs
    are removed. With `unique`, rows sharing a sample id (records with identical content) keep the first
    by source file and position; the others leave on `duplicates` as rejects."""

    BATCH = 4096   # rows turned back into Python objects at a time

    def __init__(self, out: str, table: str, shards: int, unique: bool) -> None:
        self.out, self.table, self.shards, self.unique = out, table, shards, unique

    def process(self, element: Tuple[int, Iterable[str]]) -> Iterator[Any]:
        shard, runs = element
        runs = sorted(runs)
        schema = layout.TABLE_SCHEMAS[self.table]()
        path = layout.part_path(self.out, self.table, shard, self.shards)
        merged = heapq.merge(*(_read_run(r) for r in runs), key=_order)
        kept: tuple[str, str, str] | None = None
        pending: list[Row] = []
        batches: list[pa.RecordBatch] = []
        with ParquetFileWriter(path, schema) as writer:
            for sid, sfile, skey, payload in merged:
                row = pickle.loads(payload)
                if self.unique and kept is not None and kept[0] == sid:
                    yield beam.pvalue.TaggedOutput(DUPLICATES, duplicate_row(row, kept[1:]))
                    continue
                kept = (sid, sfile, skey)
                pending.append(row)
                if len(pending) == self.BATCH:
                    batches.append(pa.RecordBatch.from_pylist(pending, schema=schema))
                    pending = []
                    if len(batches) * self.BATCH >= ROWS_PER_GROUP:
                        writer.write_table(pa.Table.from_batches(batches, schema), row_group_size=ROWS_PER_GROUP)
                        batches = []
            if pending:
                batches.append(pa.RecordBatch.from_pylist(pending, schema=schema))
            if batches:
                writer.write_table(pa.Table.from_batches(batches, schema), row_group_size=ROWS_PER_GROUP)
        for r in runs:
            storage.remove(r)
        yield path, writer.rows


class WriteTable(beam.PTransform):
    """Rows -> `OUT/TABLE/part-*.parquet`, sharded by sample id, sorted within a file (deterministic).

    Rows never wait in memory all at once: each bundle spills sorted runs (`spill_rows` at a time) and
    each shard's runs are merged into its file. Outputs `written` ((path, rows) per file) and, with
    `unique`, `duplicates` (rejects rows)."""

    def __init__(self, out: str, table: str, shards: int = 1, unique: bool = False, spill_rows: int | None = None) -> None:
        super().__init__()
        self.out, self.table, self.shards, self.unique = out.rstrip("/"), table, max(1, shards), unique
        self.spill_rows = spill_rows or SPILL_ROWS

    def expand(self, rows):
        # Several inputs (the rejects of every stage) each spill where they are made: flattening the
        # rows first would hold a stage's whole output until the next one runs.
        inputs = rows if isinstance(rows, tuple) else (rows,)
        runs = [
            part
            | f"Pack{i}" >> beam.Map(_pack).with_input_types(Row).with_output_types(Packed)
            | f"Spill{i}" >> beam.ParDo(_SpillFn(self.out, self.table, self.shards, self.spill_rows))
            .with_output_types(Tuple[int, str])
            for i, part in enumerate(inputs)
        ]
        return (
            tuple(runs)
            | "AllRuns" >> beam.Flatten()
            | "GroupRuns" >> beam.GroupByKey()
            | "Merge" >> beam.ParDo(_MergeFn(self.out, self.table, self.shards, self.unique))
            .with_output_types(Tuple[str, int], **{DUPLICATES: Row}).with_outputs(DUPLICATES, main="written")
        )
