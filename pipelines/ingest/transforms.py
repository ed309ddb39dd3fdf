"""The stages of `vrft ingest` as composite transforms, each with a dead-letter output `rejects`.

    ReadRecords -> DraftRecords -> [SampleFrames | ProbeDurations] -> NormalizeRecords -> WriteTable
     RawRecord  ->     Item     ->          Item (+ facts)          ->   samples row  -> (path, rows)

Nothing is dropped: every raw record leaves as a `samples` row or a `rejects` row with a reason. Every
stage declares the types of its elements (Beam checks them when the graph is built).
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, Iterator, List, Tuple

import apache_beam as beam
from apache_beam.metrics import Metrics

import schemas
from pipelines import layout
from pipelines.ingest import progress
from pipelines.ingest.config import IngestConfig
from pipelines.ingest.frames import Batch, DecodeVideoBatch, VideoSamples, batch_count
from pipelines.ingest.item import Item, VideoFacts
from pipelines.ingest.rejects import REJECTS, reject_row
from pipelines.normalize import RepairPolicy, normalize, sample_id
from pipelines.parquet import write_rows
from pipelines.sources import get_adapter
from pipelines.sources.base import RawRecord, Rejected, SourceOptions
from pipelines.video.errors import VideoError
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
    """The raw records of the dataset's files (read on one worker, then spread over the workers)."""

    def __init__(self, dataset: str, source: SourceOptions) -> None:
        super().__init__()
        self.dataset, self.source = dataset, source

    def expand(self, pbegin):
        return (
            pbegin
            | "Dataset" >> beam.Create([self.dataset]).with_output_types(str)
            | "Read" >> beam.ParDo(_ReadFn(self.source)).with_input_types(str).with_output_types(List[RawRecord])
            | "Spread" >> beam.Reshuffle()
            | "Unchunk" >> beam.FlatMap(lambda chunk: chunk).with_input_types(List[RawRecord]).with_output_types(RawRecord)
        )


class _DraftFn(beam.DoFn):
    def __init__(self, dataset: str) -> None:
        self.dataset = dataset

    def process(self, rec: RawRecord) -> Iterator[Any]:
        try:
            item = Item.of(rec, get_adapter(self.dataset).draft(rec))
        except Exception as err:  # bad input never crashes the pipeline
            reason, detail = (err.reason, err.detail) if isinstance(err, Rejected) else (
                "record_unreadable", f"{type(err).__name__}: {err}")
            yield beam.pvalue.TaggedOutput(REJECTS, reject_row(rec, reason, detail, sample_id(rec)))
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
    """Labels-only runs: a missing duration that the task needs is read from the video's header."""

    def __init__(self, videos: str | None) -> None:
        self.videos = videos

    def process(self, item: Item) -> Iterator[Any]:
        try:
            needs = schemas.get_task(item.task).needs_duration
        except KeyError:
            needs = False
        if item.draft.get("duration") is not None or not needs or not self.videos:
            yield item
            return
        try:
            duration = media_duration(item.media, self.videos, item.video_key)
        except VideoError as err:
            yield beam.pvalue.TaggedOutput(REJECTS, item.reject(err.reason, str(err)))
            return
        yield item.with_facts(VideoFacts(duration))


class ProbeDurations(beam.PTransform):
    """Item -> Item with the header's duration as its facts, without decoding any frame."""

    def __init__(self, videos: str | None) -> None:
        super().__init__()
        self.videos = videos

    def expand(self, items):
        return items | "Probe" >> with_rejects(_ProbeFn(self.videos), Item, Item, main="probed")


class _KeyByVideoFn(beam.DoFn):
    def process(self, item: Item) -> Iterator[Any]:
        if item.video_key is not None:
            yield item.video_key, item
        else:  # no video to decode: the checks will reject it for the missing key
            yield beam.pvalue.TaggedOutput("unkeyed", item)


def _batch_rejects(failed: Tuple[Batch, Any]) -> Iterator[Row]:
    """A batch whose worker failed outright: every sample in it is rejected, none is lost."""
    (_, videos), error = failed  # error: (exception type, repr of the exception, traceback lines)
    detail = str(error[1]) if isinstance(error, tuple) and len(error) > 1 else str(error)
    for _, items in videos:
        for item in items:
            yield item.reject("video_batch_failed", detail)


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
        ).with_exception_handling(main_tag="framed", dead_letter_tag="failed")
        failed = decoded.failed | "RejectFailedBatches" >> beam.FlatMap(_batch_rejects).with_output_types(Row)
        framed = (decoded.framed, keyed.unkeyed) | "AllFramed" >> beam.Flatten()
        rejects = (decoded[REJECTS], failed) | "AllVideoRejects" >> beam.Flatten()
        return {"framed": framed, REJECTS: rejects}


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


class NormalizeRecords(beam.PTransform):
    """Item -> `samples` row: tidy, repair by policy, id, check; else rejects."""

    def __init__(self, policy: RepairPolicy) -> None:
        super().__init__()
        self.policy = policy

    def expand(self, items):
        return items | "Normalize" >> with_rejects(_NormalizeFn(self.policy), Item, Row, main="samples")


def _order(row: Row) -> tuple[str, str, str]:
    return (row.get("sample_id") or "", row.get("source_file") or "", row.get("source_key") or "")


class _WriteShardFn(beam.DoFn):
    def __init__(self, out: str, table: str, shards: int) -> None:
        self.out, self.table, self.shards = out, table, shards

    def process(self, element: Tuple[int, Iterable[Row]]) -> Iterator[Tuple[str, int]]:
        shard, rows = element
        path = layout.part_path(self.out, self.table, shard, self.shards)
        yield path, write_rows(path, sorted(rows, key=_order), layout.TABLE_SCHEMAS[self.table]())


class WriteTable(beam.PTransform):
    """Rows -> `OUT/TABLE/part-*.parquet`, sharded by sample id, sorted within a file (deterministic)."""

    def __init__(self, out: str, table: str, shards: int = 1) -> None:
        super().__init__()
        self.out, self.table, self.shards = out.rstrip("/"), table, max(1, shards)

    def expand(self, rows):
        return (
            rows
            | "Shard" >> beam.Map(
                lambda r, n: (layout.bucket_of(_order(r)[0] + _order(r)[2], n), r), self.shards
            ).with_input_types(Row, int).with_output_types(Tuple[int, Row])
            | "GroupByShard" >> beam.GroupByKey()
            | "Write" >> beam.ParDo(_WriteShardFn(self.out, self.table, self.shards)).with_output_types(Tuple[str, int])
        )
