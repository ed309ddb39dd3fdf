"""The stages of `vrft ingest` as composite transforms, each with a dead-letter output `rejects`.

    ReadRecords -> DraftRecords -> [SampleFrames | ProbeDurations] -> NormalizeRecords -> WriteTable
     RawRecord  ->     Item     ->          Item (+ facts)          ->   samples row  -> (path, rows)

Nothing is dropped: every raw record leaves as a `samples` row or a `rejects` row with a reason. Every
stage declares the types of its elements (Beam checks them when the graph is built).
"""

from __future__ import annotations

import heapq
import pickle
import re
import uuid
from typing import Any, Dict, Iterable, Iterator, List, Tuple

import apache_beam as beam
import pyarrow as pa
from apache_beam.metrics import Metrics
from apache_beam.transforms.window import GlobalWindows

import schemas
from pipelines import layout, storage
from pipelines.ingest import progress
from pipelines.ingest.config import IngestConfig
from pipelines.ingest.frames import DecodeVideoBatch, VideoSamples, batch_count
from pipelines.ingest.item import Item, VideoFacts
from pipelines.ingest.rejects import DUPLICATES, REJECTS, duplicate_row, reject_row
from pipelines.normalize import RepairPolicy, normalize, record_id
from pipelines.parquet import ROWS_PER_GROUP, ParquetFileWriter
from pipelines.sources import get_adapter
from pipelines.sources.base import RawRecord, Rejected, SourceOptions
from pipelines.video.errors import VideoError
from pipelines.video.media import ImageSequence
from pipelines.video.process import media_duration

RECORDS_READ = "records_read"
Row = Dict[str, Any]          # a `samples` or `rejects` row


def with_rejects(fn: beam.DoFn, takes: Any, gives: Any, main: str) -> beam.PTransform:
    """`fn` as a typed ParDo whose main output is called `main` and whose dead letters go to `rejects`."""
    typed = beam.ParDo(fn).with_input_types(takes).with_output_types(gives, **{REJECTS: Row})
    return typed.with_outputs(REJECTS, main=main)


class _ReadFn(beam.DoFn):
    """Reads a dataset's files; yields its records in chunks (spreading chunks, not records, is cheap)."""

    CHUNK = 512

    def __init__(self, source: SourceOptions) -> None:
        self.source = source
        self.read = Metrics.counter("vrft", RECORDS_READ)

    def process(self, dataset: str) -> Iterator[list[RawRecord]]:
        chunk: list[RawRecord] = []
        for rec in get_adapter(dataset).read(self.source):
            self.read.inc()
            progress.bump("records")
            chunk.append(rec)
            if len(chunk) == self.CHUNK:
                yield chunk
                chunk = []
        if chunk:
            yield chunk


class ReadRecords(beam.PTransform):
    """The raw records of the dataset's files, read on one worker, then (with `spread`) spread over the
    workers. Without `spread`, records stream from the file through drafting and normalizing to the
    writers' spills, never all in memory: a local labels-only run (whose per-record work is small)."""

    def __init__(self, dataset: str, source: SourceOptions, spread: bool = True) -> None:
        super().__init__()
        self.dataset, self.source, self.spread = dataset, source, spread

    def expand(self, pbegin):
        chunks = (
            pbegin
            | "Dataset" >> beam.Create([self.dataset]).with_output_types(str)
            | "Read" >> beam.ParDo(_ReadFn(self.source)).with_input_types(str).with_output_types(List[RawRecord])
        )
        if self.spread:
            chunks = chunks | "Spread" >> beam.Reshuffle()
        return chunks | "Unchunk" >> beam.FlatMap(lambda chunk: chunk).with_input_types(List[RawRecord]).with_output_types(
            RawRecord
        )


class _DraftFn(beam.DoFn):
    def __init__(self, dataset: str) -> None:
        self.dataset = dataset

    def process(self, rec: RawRecord) -> Iterator[Any]:
        try:
            item = Item.of(rec, get_adapter(self.dataset).draft(rec))
        except Exception as err:  # bad input never crashes the pipeline (a failing machine does)
            if storage.is_environment(err):
                raise
            reason, detail = (err.reason, err.detail) if isinstance(err, Rejected) else (
                "record_unreadable", f"{type(err).__name__}: {err}")
            yield beam.pvalue.TaggedOutput(REJECTS, reject_row(rec, reason, detail, record_id(rec)))
            return
        yield item


class DraftRecords(beam.PTransform):
    """Raw record -> `Item` (its draft by the dataset's adapter); format problems -> rejects."""

    def __init__(self, dataset: str) -> None:
        super().__init__()
        self.dataset = dataset

    def expand(self, records):
        return records | "Draft" >> with_rejects(_DraftFn(self.dataset), RawRecord, Item, main="drafts")


class _ProbeFn(beam.DoFn):
    """Labels-only runs: a missing duration that the task needs is read from the video's header; with
    `only_present`, every sample's video must be there (else `video_missing`, as a run with frames)."""

    def __init__(self, videos: str | None, only_present: bool = False) -> None:
        self.videos, self.only_present = videos, only_present

    def process(self, item: Item) -> Iterator[Any]:
        try:
            needs = schemas.get_task(item.task).needs_duration
        except KeyError:
            needs = False
        probe = item.draft.get("duration") is None and needs and self.videos
        try:
            if probe:
                item = item.with_facts(VideoFacts(media_duration(item.media, self.videos, item.video_key)))
            elif self.only_present and self.videos and not isinstance(item.media, ImageSequence):
                item.media.locate(self.videos, item.video_key)
        except VideoError as err:
            yield beam.pvalue.TaggedOutput(REJECTS, item.reject(err.reason, str(err)))
            return
        except Exception as err:  # a bug on one record's video is that record's reject
            if storage.is_environment(err):
                raise
            yield beam.pvalue.TaggedOutput(REJECTS, item.reject("video_stage_error", f"{type(err).__name__}: {err}"))
            return
        yield item


class ProbeDurations(beam.PTransform):
    """Item -> Item with the header's duration as its facts, without decoding any frame."""

    def __init__(self, videos: str | None, only_present: bool = False) -> None:
        super().__init__()
        self.videos, self.only_present = videos, only_present

    def expand(self, items):
        return items | "Probe" >> with_rejects(_ProbeFn(self.videos, self.only_present), Item, Item, main="probed")


class _KeyByVideoFn(beam.DoFn):
    def process(self, item: Item) -> Iterator[Any]:
        if item.video_key is not None:
            yield item.video_key, item
        else:  # no video to decode: the checks will reject it for the missing key
            yield beam.pvalue.TaggedOutput("unkeyed", item)


class SampleFrames(beam.PTransform):
    """Item -> Item with its video's facts: every video decoded once, in resumable batches."""

    def __init__(self, cfg: IngestConfig) -> None:
        super().__init__()
        self.cfg = cfg

    def expand(self, items):
        keyed = items | "KeyByVideo" >> beam.ParDo(_KeyByVideoFn()).with_input_types(Item).with_output_types(
            Tuple[str, Item], unkeyed=Item
        ).with_outputs("unkeyed", main="keyed")
        per_video = keyed.keyed | "GroupByVideo" >> beam.GroupByKey()
        n_batches = (
            per_video
            | "CountVideos" >> beam.combiners.Count.Globally()
            | "Batches" >> beam.Map(batch_count, self.cfg.videos_per_part).with_output_types(int)
        )
        batches = (
            per_video
            | "AssignBatch" >> beam.Map(
                lambda kv, n: (layout.bucket_of(kv[0], n), kv), n=beam.pvalue.AsSingleton(n_batches)
            ).with_input_types(VideoSamples, n=int).with_output_types(Tuple[int, VideoSamples])
            | "GroupByBatch" >> beam.GroupByKey()
        )
        decode = beam.ParDo(DecodeVideoBatch(self.cfg), n_batches=beam.pvalue.AsSingleton(n_batches))
        decoded = batches | "Decode" >> decode.with_output_types(Item, **{REJECTS: Row}).with_outputs(
            REJECTS, main="framed"
        )
        framed = (decoded.framed, keyed.unkeyed) | "AllFramed" >> beam.Flatten()
        return {"framed": framed, REJECTS: decoded[REJECTS]}


class _NormalizeFn(beam.DoFn):
    def __init__(self, policy: RepairPolicy) -> None:
        self.policy = policy

    def process(self, item: Item) -> Iterator[Any]:
        try:
            item.check_frames()
            duration = item.facts.duration if item.facts else None
            yield normalize(item.draft, item.record, self.policy, duration, item.sample_id)
        except Rejected as r:
            yield beam.pvalue.TaggedOutput(REJECTS, item.reject(r.reason, r.detail))
        except Exception as err:  # a value no check foresaw is that record's reject, not the run's end
            if storage.is_environment(err):
                raise
            yield beam.pvalue.TaggedOutput(REJECTS, item.reject("record_unreadable", f"{type(err).__name__}: {err}"))


class NormalizeRecords(beam.PTransform):
    """Item -> `samples` row: tidy, repair by policy, id, check; else rejects."""

    def __init__(self, policy: RepairPolicy) -> None:
        super().__init__()
        self.policy = policy

    def expand(self, items):
        return items | "Normalize" >> with_rejects(_NormalizeFn(self.policy), Item, Row, main="samples")


def _natural(key: str) -> tuple[Any, ...]:
    """"line 9" before "line 10": digit runs compare as numbers."""
    return tuple(int(part) if i % 2 else part for i, part in enumerate(re.split(r"(\d+)", key)))


Packed = Tuple[str, str, str, bytes]       # (sample id, source file, source key, the pickled row)
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

    def __init__(self, out: str, table: str, shards: int = 1, unique: bool = False, spill_rows: int = 20_000) -> None:
        super().__init__()
        self.out, self.table, self.shards, self.unique = out.rstrip("/"), table, max(1, shards), unique
        self.spill_rows = spill_rows

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
