"""The stages of `vrft ingest` as composite transforms, each with a dead-letter output `rejects`.

    ReadRecords -> DraftRecords -> [SampleFrames | ProbeDurations] -> NormalizeRecords -> WriteTable
     RawRecord  ->     Item     ->          Item (+ facts)          ->   samples row  -> (path, rows)

Nothing is dropped: every raw record leaves as a `samples` row or a `rejects` row with a reason. Every
stage declares the types of its elements (Beam checks them when the graph is built).
"""

from __future__ import annotations

from typing import Any, Dict, Iterator, List, Tuple

import apache_beam as beam
from apache_beam.metrics import Metrics

import schemas
from pipelines import layout, storage
from pipelines.ingest import progress
from pipelines.ingest.config import IngestConfig
from pipelines.ingest.frames import DecodeVideoBatch, VideoSamples, batch_count
from pipelines.ingest.item import Item, VideoFacts
from pipelines.ingest.rejects import REJECTS, reject_row
from pipelines.normalize import RepairPolicy, normalize, record_id
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
