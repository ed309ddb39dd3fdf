"""The stages of `vrft ingest` as composite transforms, each with a dead-letter output `rejects`.

    ReadRecords -> DraftRecords -> [SampleFrames | ProbeDurations] -> NormalizeRecords -> WriteTable

Nothing is dropped: every raw record leaves as a `samples` row or a `rejects` row with a reason.
"""

from __future__ import annotations

import hashlib
from typing import Any, Iterator

import apache_beam as beam
from apache_beam.metrics import Metrics

import schemas
from pipelines.ingest import progress
from pipelines.ingest.config import IngestConfig
from pipelines.ingest.frames import DecodeVideoBatch, batch_count, batch_of, check_alignment
from pipelines.ingest.parquet_io import write_rows
from pipelines.ingest.rejects import REJECTS, reject_row
from pipelines.normalize import RepairPolicy, id_of, normalize
from pipelines.sources import get_adapter
from pipelines.sources.base import Rejected, SourceOptions, resolve_video

RECORDS_READ = "records_read"
TABLE_SCHEMAS = {"samples": schemas.samples_schema, "rejects": schemas.rejects_schema}


class _ReadFn(beam.DoFn):
    """Reads a dataset's files; yields its records in chunks (spreading chunks, not records, is cheap)."""

    CHUNK = 512

    def __init__(self, source: SourceOptions) -> None:
        self.source = source
        self.read = Metrics.counter("vrft", RECORDS_READ)

    def process(self, dataset: str) -> Iterator[list[Any]]:
        chunk: list[Any] = []
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
            | "Dataset" >> beam.Create([self.dataset])
            | "Read" >> beam.ParDo(_ReadFn(self.source))
            | "Spread" >> beam.Reshuffle()
            | "Unchunk" >> beam.FlatMap(lambda chunk: chunk)
        )


class _DraftFn(beam.DoFn):
    def __init__(self, dataset: str) -> None:
        self.dataset = dataset

    def process(self, rec) -> Iterator[Any]:
        try:
            yield rec, get_adapter(self.dataset).draft(rec)
        except Rejected as r:
            yield beam.pvalue.TaggedOutput(REJECTS, reject_row(rec, r.reason, r.detail, id_of(rec)))
        except Exception as err:  # bad input never crashes the pipeline
            yield beam.pvalue.TaggedOutput(
                REJECTS, reject_row(rec, "record_unreadable", f"{type(err).__name__}: {err}", id_of(rec))
            )


class DraftRecords(beam.PTransform):
    """Raw record -> (record, draft) by the dataset's adapter; format problems -> rejects."""

    def __init__(self, dataset: str) -> None:
        super().__init__()
        self.dataset = dataset

    def expand(self, records):
        return records | "Draft" >> beam.ParDo(_DraftFn(self.dataset)).with_outputs(REJECTS, main="drafts")


class _ProbeFn(beam.DoFn):
    """Labels-only runs: a missing duration that the task needs is read from the video's header."""

    def __init__(self, videos: str | None) -> None:
        self.videos = videos

    def process(self, item) -> Iterator[Any]:
        rec, draft = item
        try:
            needs = schemas.get_task(draft.get("task")).needs_duration
        except KeyError:
            needs = False
        if draft.get("duration") is not None or not needs or not self.videos:
            yield rec, draft, None
            return
        from pipelines.video.errors import VideoError
        from pipelines.video.probe import probe

        media = draft.get("media") or {}
        path = resolve_video(self.videos, list(media.get("hints") or [str(draft.get("video_key"))]))
        try:
            if path is None:
                raise VideoError("video_missing", f"no file for {media.get('hints')} under {self.videos}")
            duration = probe(path).duration
        except VideoError as err:
            yield beam.pvalue.TaggedOutput(REJECTS, reject_row(rec, err.reason, str(err), id_of(rec, draft), draft.get("video_key")))
            return
        yield rec, draft, {"duration": duration}


class ProbeDurations(beam.PTransform):
    """(record, draft) -> (record, draft, facts or None) without decoding any frame."""

    def __init__(self, videos: str | None) -> None:
        super().__init__()
        self.videos = videos

    def expand(self, drafts):
        return drafts | "Probe" >> beam.ParDo(_ProbeFn(self.videos)).with_outputs(REJECTS, main="probed")


class _KeyByVideoFn(beam.DoFn):
    def process(self, item) -> Iterator[Any]:
        rec, draft = item
        key = draft.get("video_key")
        if isinstance(key, str) and key.strip():
            yield key.strip(), item
        else:  # no video to decode: the checks will reject it for the missing key
            yield beam.pvalue.TaggedOutput("unkeyed", (rec, draft, None))


def _batch_rejects(failed) -> Iterator[dict[str, Any]]:
    """A batch whose worker failed outright: every sample in it is rejected, none is lost."""
    (_, videos), error = failed  # error: (exception type, repr of the exception, traceback lines)
    detail = str(error[1]) if isinstance(error, tuple) and len(error) > 1 else str(error)
    for key, items in videos:
        for rec, draft in items:
            yield reject_row(rec, "video_batch_failed", detail, id_of(rec, draft), key)


class SampleFrames(beam.PTransform):
    """(record, draft) -> (record, draft, facts): every video decoded once, in resumable batches."""

    def __init__(self, cfg: IngestConfig) -> None:
        super().__init__()
        self.cfg = cfg

    def expand(self, drafts):
        keyed = drafts | "KeyByVideo" >> beam.ParDo(_KeyByVideoFn()).with_outputs("unkeyed", main="keyed")
        per_video = keyed.keyed | "GroupByVideo" >> beam.GroupByKey()
        n_batches = (
            per_video
            | "CountVideos" >> beam.combiners.Count.Globally()
            | "Batches" >> beam.Map(batch_count, self.cfg.videos_per_part)
        )
        batches = (
            per_video
            | "AssignBatch" >> beam.Map(lambda kv, n: (batch_of(kv[0], n), kv), n=beam.pvalue.AsSingleton(n_batches))
            | "GroupByBatch" >> beam.GroupByKey()
        )
        decoded = batches | "Decode" >> beam.ParDo(
            DecodeVideoBatch(self.cfg), n_batches=beam.pvalue.AsSingleton(n_batches)
        ).with_outputs(REJECTS, main="framed").with_exception_handling(main_tag="framed", dead_letter_tag="failed")
        failed = decoded.failed | "RejectFailedBatches" >> beam.FlatMap(_batch_rejects)
        framed = (decoded.framed, keyed.unkeyed) | "AllFramed" >> beam.Flatten()
        rejects = (decoded[REJECTS], failed) | "AllVideoRejects" >> beam.Flatten()
        return {"framed": framed, REJECTS: rejects}


class _NormalizeFn(beam.DoFn):
    def __init__(self, policy: RepairPolicy) -> None:
        self.policy = policy

    def process(self, item) -> Iterator[Any]:
        rec, draft, facts = item
        try:
            if facts:
                check_alignment(draft, facts)
            yield normalize(draft, rec, self.policy, (facts or {}).get("duration"))
        except Rejected as r:
            yield beam.pvalue.TaggedOutput(REJECTS, reject_row(rec, r.reason, r.detail, id_of(rec, draft), draft.get("video_key")))


class NormalizeRecords(beam.PTransform):
    """(record, draft, facts) -> `samples` row: tidy, repair by policy, id, check; else rejects."""

    def __init__(self, policy: RepairPolicy) -> None:
        super().__init__()
        self.policy = policy

    def expand(self, items):
        return items | "Normalize" >> beam.ParDo(_NormalizeFn(self.policy)).with_outputs(REJECTS, main="samples")


def shard_of(key: str, shards: int) -> int:
    return int(hashlib.sha1(key.encode("utf-8")).hexdigest()[:12], 16) % shards


def _order(row: dict[str, Any]) -> tuple[str, str, str]:
    return (row.get("sample_id") or "", row.get("source_file") or "", row.get("source_key") or "")


class _WriteShardFn(beam.DoFn):
    def __init__(self, out: str, table: str, shards: int) -> None:
        self.out, self.table, self.shards = out, table, shards

    def process(self, element) -> Iterator[tuple[str, int]]:
        shard, rows = element
        path = f"{self.out}/{self.table}/part-{shard:05d}-of-{self.shards:05d}.parquet"
        yield path, write_rows(path, sorted(rows, key=_order), TABLE_SCHEMAS[self.table]())


class WriteTable(beam.PTransform):
    """Rows -> `OUT/TABLE/part-*.parquet`, sharded by sample id, sorted within a file (deterministic)."""

    def __init__(self, out: str, table: str, shards: int = 1) -> None:
        super().__init__()
        self.out, self.table, self.shards = out.rstrip("/"), table, max(1, shards)

    def expand(self, rows):
        return (
            rows
            | "Shard" >> beam.Map(lambda r, n: (shard_of(_order(r)[0] + _order(r)[2], n), r), self.shards)
            | "GroupByShard" >> beam.GroupByKey()
            | "Write" >> beam.ParDo(_WriteShardFn(self.out, self.table, self.shards))
        )
