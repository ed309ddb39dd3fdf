"""The video stage: each video decoded once for all its samples, in batches that are also resume units.

Samples are grouped by video key; videos are grouped into batches by a hash of their key. A batch
writes one file, `videos/part-BBBBB-of-NNNNN.parquet`, atomically when all its videos are done, with
the videos that failed (and why) in the file's metadata. A rerun with --resume finds the file and
emits its facts without decoding again. Decoding runs in the video library's isolated worker with a
timeout; any `VideoError` becomes rejects of that video's samples with the error's reason.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Iterable, Iterator

import apache_beam as beam
from apache_beam.metrics import Metrics

import schemas
from pipelines.ingest import progress
from pipelines.ingest.config import IngestConfig
from pipelines.ingest.parquet_io import AtomicParquetWriter
from pipelines.ingest.rejects import REJECTS, reject_row
from pipelines.normalize import id_of
from pipelines.sources.base import Draft, RawRecord, Rejected, exists, open_binary, resolve_video

FAILED_KEY = "vrft.failed_videos"
FACT_COLUMNS = ("video_key", "duration", "timestamps")
Item = tuple[RawRecord, Draft]


def batch_count(n_videos: int, per_part: int) -> int:
    return max(1, math.ceil(n_videos / max(1, per_part)))


def batch_of(video_key: str, n_batches: int) -> int:
    return int(hashlib.sha1(video_key.encode("utf-8")).hexdigest()[:12], 16) % n_batches


def part_path(out: str, batch: int, n_batches: int) -> str:
    return os.path.join(out, "videos", f"part-{batch:05d}-of-{n_batches:05d}.parquet")


def requested_times(draft: Draft) -> tuple[float, ...] | None:
    """The frames a sample must be shown: those its media names (an image sequence), else those its
    labels sit on (a box track, by its task's declaration); None when any frame plan will do."""
    times = (draft.get("media") or {}).get("timestamps")
    if times:
        return tuple(float(t) for t in times)
    try:
        return schemas.get_task(draft.get("task")).frame_times(draft)
    except (KeyError, TypeError, ValueError):
        return None  # an unknown task or malformed boxes: the record checks reject it later


def check_alignment(draft: Draft, facts: dict[str, Any]) -> None:
    """Samples that name their frames' times (tracking) must get exactly those frames."""
    wanted = requested_times(draft)
    if wanted is None or "timestamps" not in facts:
        return
    got = facts["timestamps"] or []
    if len(wanted) != len(got) or any(abs(a - b) > 1e-3 for a, b in zip(wanted, got)):
        raise Rejected("frames_misaligned", f"asked for frames at {list(wanted)}, decoded {list(got)}")


@contextlib.contextmanager
def local_copy(path: str) -> Iterator[str]:
    """A local file for the decoders: the path itself, or a temporary copy of a gs:// (etc.) object."""
    if "://" not in path:
        yield path
        return
    from apache_beam.io.filesystems import FileSystems

    suffix = os.path.splitext(path)[1]
    with tempfile.NamedTemporaryFile(suffix=suffix) as tmp:
        with FileSystems.open(path) as src:
            shutil.copyfileobj(src, tmp, 1 << 20)
        tmp.flush()
        yield tmp.name


def read_finished(path: str) -> tuple[dict[str, dict[str, Any]], dict[str, list[str]]] | None:
    """(facts by video key, failures by video key) of a finished batch file, or None."""
    if not exists(path):
        return None
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(open_binary(path))
    failed = json.loads((pf.metadata.metadata or {}).get(FAILED_KEY.encode(), b"{}"))
    table = pf.read(columns=list(FACT_COLUMNS))
    facts = {r["video_key"]: r for r in table.to_pylist()}
    return facts, failed


class DecodeVideoBatch(beam.DoFn):
    """(batch, [(video_key, [(record, draft)])]) -> (record, draft, facts) and rejects; writes the part."""

    def __init__(self, cfg: IngestConfig) -> None:
        self.cfg = cfg
        self.decoded = Metrics.counter("vrft", "videos_decoded")
        self.resumed = Metrics.counter("vrft", "videos_resumed")

    def setup(self) -> None:
        from pipelines.video import FramePolicy

        self.policy = FramePolicy(**self.cfg.frame_policy)
        self.parallel = max(1, min(2, os.cpu_count() or 1))  # as many as the video library's worker pool

    def process(self, element: tuple[int, Iterable[tuple[str, list[Item]]]], n_batches: int) -> Iterator[Any]:
        batch, videos = element
        # the first sample of a video decides its frame plan: a sample tied to frames (a box track)
        # before one that takes any plan, then by id, so reruns decide alike whatever the arrival order
        videos = sorted(
            ((k, sorted(items, key=lambda it: (requested_times(it[1]) is None, id_of(*it)))) for k, items in videos),
            key=lambda kv: kv[0],
        )
        path = part_path(self.cfg.out, batch, n_batches)
        finished = read_finished(path)
        if finished and all(k in finished[0] or k in finished[1] for k, _ in videos):
            facts, failed = finished
            for key, items in videos:
                self.resumed.inc()
                progress.bump("videos")
                yield from self._emit(key, items, facts.get(key), failed.get(key))
            return
        writer = AtomicParquetWriter(path, schemas.videos_schema(), media_columns=("frames",))
        failed: dict[str, list[str]] = {}
        outputs: list[Any] = []
        try:
            with ThreadPoolExecutor(max_workers=self.parallel) as threads:  # the decoders are processes
                decoded = threads.map(lambda kv: self._decode(*kv), videos)
                for (key, items), (row, failure) in zip(videos, decoded):
                    self._keep(writer, failed, outputs, key, items, row, failure)
            writer.add_metadata({FAILED_KEY: json.dumps(failed, sort_keys=True)})
            writer.close()
        except BaseException:
            writer.abort()
            raise
        yield from outputs

    def _keep(self, writer: AtomicParquetWriter, failed: dict[str, list[str]], outputs: list[Any], key: str,
              items: list[Item], row: dict[str, Any] | None, failure: list[str] | None) -> None:
        """Write a decoded video's row (or note its failure) and queue its samples' outcomes."""
        if row is not None:
            writer.write(row)
        else:
            failed[key] = failure or ["video_stage_error", "no row and no reason"]
        self.decoded.inc()
        progress.bump("videos")
        outputs.extend(self._emit(key, items, _facts(row), failure))

    def _decode(self, key: str, items: list[Item]) -> tuple[dict[str, Any] | None, list[str] | None]:
        """The video's row, or (None, [reason, detail]); never raises for a bad video."""
        from pipelines.video import process_video
        from pipelines.video.errors import VideoError

        media = items[0][1].get("media") or {}
        times = requested_times(items[0][1])
        try:
            if media.get("kind") == "images":
                from pipelines.video.images import sample_image_frames

                count = media.get("frame_count")
                row = sample_image_frames(
                    media["paths"], list(media["timestamps"]), self.policy, fps=media.get("fps"), frame_count=count,
                    duration=count / media["fps"] if count and media.get("fps") else None,
                    uri=os.path.dirname(media["paths"][0]) if media["paths"] else None,
                )
            else:
                path = resolve_video(self.cfg.source.videos, list(media.get("hints") or [key]))
                if path is None:
                    return None, ["video_missing", f"no file for {media.get('hints')} under {self.cfg.source.videos}"]
                with local_copy(path) as local:
                    row = process_video(
                        local, self.policy, timestamps=list(times) if times else None, timeout_s=self.cfg.video_timeout_s
                    )
                row["uri"] = path
        except VideoError as err:
            return None, [err.reason, str(err)]
        except Exception as err:  # a bug in the video stage must not sink the other videos
            return None, ["video_stage_error", f"{type(err).__name__}: {err}"]
        return {**row, "video_key": key}, None

    def _emit(self, key: str, items: list[Item], facts: dict[str, Any] | None, failure: list[str] | None) -> Iterator[Any]:
        plan = requested_times(items[0][1])
        for rec, draft in items:
            if facts is None:
                reason, detail = failure or ["video_missing", "not decoded"]
                yield beam.pvalue.TaggedOutput(REJECTS, reject_row(rec, reason, detail, id_of(rec, draft), key))
            elif requested_times(draft) != plan:
                yield beam.pvalue.TaggedOutput(
                    REJECTS, reject_row(
                        rec, "frame_plan_conflict", "another sample of this video asks for other frames", id_of(rec, draft), key
                    )
                )
            else:
                yield rec, draft, facts


def _facts(row: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if row is None else {k: row.get(k) for k in FACT_COLUMNS}
