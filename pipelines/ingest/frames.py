"""The video stage: each video decoded once for all its samples, in batches that are also resume units.

Samples are grouped by video key; videos are grouped into batches by a hash of their key. A batch
writes one file, `videos/part-BBBBB-of-NNNNN.parquet`, atomically when all its videos are done (none
when no video of it decoded: a file without rows is never written), then its record
(`layout.batch_record`: the videos that failed, and why), which marks the batch finished. A rerun with
--resume finds the record and emits the batch's facts without decoding again. Decoding runs in the video library's isolated workers with a
timeout; any `VideoError` becomes rejects of that video's samples with the error's reason.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Iterable, Iterator, Tuple

import apache_beam as beam
from apache_beam.metrics import Metrics

import schemas
from pipelines import layout, storage
from pipelines.ingest import progress
from pipelines.ingest.config import IngestConfig
from pipelines.ingest.item import Item, VideoFacts
from pipelines.ingest.rejects import REJECTS
from pipelines.parquet import ParquetFileWriter, open_parquet
from pipelines.video.errors import VideoError
from pipelines.video.policy import FramePolicy
from pipelines.video.process import decode_media
from pipelines.video.worker import default_pool, machine_cores

FACT_COLUMNS = ("video_key", "duration", "timestamps")
Failure = Tuple[str, str]                       # (reason, detail)
VideoSamples = Tuple[str, Iterable[Item]]       # a video key and the samples that need it
Batch = Tuple[int, Iterable[VideoSamples]]      # a batch number and its videos


def batch_count(n_videos: int, per_part: int) -> int:
    return max(1, math.ceil(n_videos / max(1, per_part)))


def facts_of(row: dict[str, Any] | None) -> VideoFacts | None:
    """What the samples of a video need from its `videos` row (a decoded one, or one read back)."""
    if row is None:
        return None
    return VideoFacts(row.get("duration"), tuple(row.get("timestamps") or ()))


def read_failures(record: str) -> dict[str, Failure]:
    """The failed videos of a batch, from its record."""
    return {k: (v[0], v[1]) for k, v in storage.read_json(record)["failed"].items()}


def read_finished(path: str, record: str) -> tuple[dict[str, VideoFacts | None], dict[str, Failure]] | None:
    """(facts by video key, failures by video key) of a finished batch (its record written), or None."""
    if not storage.exists(record):
        return None
    facts: dict[str, VideoFacts | None] = {}
    if storage.exists(path):
        table = open_parquet(path).read(columns=list(FACT_COLUMNS))
        facts = {r["video_key"]: facts_of(r) for r in table.to_pylist()}
    return facts, read_failures(record)


class DecodeVideoBatch(beam.DoFn):
    """(batch, [(video_key, [item])]) -> items with their facts, and rejects; writes the batch's part.

    `cfg.decode_workers` videos are decoded at a time (decoder processes of a pool shared by every
    batch in this process); an image sequence reads `cfg.image_threads` images at a time."""

    def __init__(self, cfg: IngestConfig) -> None:
        self.cfg = cfg
        self.decoded = Metrics.counter("vrft", "videos_decoded")
        self.resumed = Metrics.counter("vrft", "videos_resumed")

    def setup(self) -> None:
        self.policy = FramePolicy(**self.cfg.frame_policy)
        self.pool = default_pool(self.cfg.decode_workers)
        self.parallel = self.pool.size  # as many videos at a time as there are decoders

    def process(self, element: Batch, n_batches: int) -> Iterator[Any]:
        batch, videos = element
        # the first sample of a video decides its frame plan: a sample tied to frames (a box track)
        # before one that takes any plan, then by id, so reruns decide alike whatever the arrival order
        videos = sorted(
            ((k, sorted(items, key=lambda it: (it.wanted_times is None, it.sample_id))) for k, items in videos),
            key=lambda kv: kv[0],
        )
        try:
            outputs = self._batch(batch, videos, n_batches)
        except Exception as err:  # a bug that sinks the batch rejects its samples; a failing machine ends the run
            if storage.is_environment(err):
                raise
            detail = f"{type(err).__name__}: {err}"
            outputs = [beam.pvalue.TaggedOutput(REJECTS, item.reject("video_batch_failed", detail))
                       for _, items in videos for item in items]
        yield from outputs

    def _batch(self, batch: int, videos: list[tuple[str, list[Item]]], n_batches: int) -> list[Any]:
        """Every output of one batch: its part read back (--resume) or decoded and written."""
        path = layout.part_path(self.cfg.out, "videos", batch, n_batches)
        record = layout.batch_record(self.cfg.out, "videos", batch, n_batches)
        finished = read_finished(path, record)
        if finished and all(k in finished[0] or k in finished[1] for k, _ in videos):
            facts, done = finished
            resumed: list[Any] = []
            for key, items in videos:
                self.resumed.inc()
                progress.bump("videos")
                resumed.extend(emit(items, facts.get(key), done.get(key)))
            return resumed
        failed: dict[str, Failure] = {}
        outputs: list[Any] = []
        writer = ParquetFileWriter(path, schemas.videos_schema(), media_columns=("frames",))
        try:
            with ThreadPoolExecutor(max_workers=self.parallel) as threads:  # the decoders are processes
                decoded = threads.map(lambda kv: self._decode(*kv), videos)
                for (key, items), (row, failure) in zip(videos, decoded):
                    if row is not None:
                        writer.write(row)
                    else:
                        failed[key] = failure or ("video_stage_error", "no row and no reason")
                    self.decoded.inc()
                    progress.bump("videos")
                    outputs.extend(emit(items, facts_of(row), failure))
            writer.flush()
        except BaseException:
            writer.abort()
            raise
        if writer.rows:
            writer.close()
        else:  # no file without rows; and none left by an earlier, killed attempt
            writer.abort()
            storage.remove(path)
        storage.write_json(record, {"failed": {k: list(v) for k, v in failed.items()}}, sort_keys=True)
        return outputs

    def _decode(self, key: str, items: list[Item]) -> tuple[dict[str, Any] | None, Failure | None]:
        """The video's row, or (None, (reason, detail)); never raises for a bad video."""
        first = items[0]
        try:
            row = decode_media(
                first.media, self.cfg.source.videos, self.policy, first.wanted_times or None, self.cfg.video_timeout_s,
                video_key=key, pool=self.pool, image_threads=self.cfg.image_threads or machine_cores(),
            )
        except VideoError as err:
            return None, (err.reason, str(err))
        except Exception as err:  # a bug in the video stage must not sink the other videos
            if storage.is_environment(err):
                raise
            return None, ("video_stage_error", f"{type(err).__name__}: {err}")
        return {**row, "video_key": key}, None


def emit(items: list[Item], facts: VideoFacts | None, failure: Failure | None) -> Iterator[Any]:
    """The outcome of each sample of one video (items in plan order: the first decided the frames)."""
    plan = items[0].wanted_times
    for item in items:
        if facts is None:
            yield beam.pvalue.TaggedOutput(REJECTS, item.reject(*(failure or ("video_missing", "not decoded"))))
        elif item.wanted_times != plan:
            yield beam.pvalue.TaggedOutput(
                REJECTS, item.reject("frame_plan_conflict", "another sample of this video asks for other frames")
            )
        else:
            yield item.with_facts(facts)
