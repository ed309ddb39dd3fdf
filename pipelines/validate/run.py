"""`validate_dataset`: every check over an ingestion folder, chunk by chunk, then Data Docs, report, summary.

Memory stays bounded: samples are read in batches of label columns only; videos in batches of a few
rows (their frames are checked and dropped); check frames are handed to GX every `chunk_rows` rows;
the profile for the plots keeps a fixed-size sample. Dataset-wide facts that one chunk cannot see
(duplicate ids, which videos exist) are computed first from single small columns.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable, Iterator

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipelines import storage
from pipelines.ingested import Ingested
from pipelines.report import write_dataset_report
from pipelines.report.profile import DatasetProfile
from pipelines.validate.distribution import Thresholds, dataset_checks
from pipelines.validate.suite import sample_frames, sample_tables
from pipelines.validate.videos import COLUMNS as VIDEO_COLUMNS
from pipelines.validate.videos import VIDEOS, video_frame, video_table
from schemas.coverage import check_coverage

SUMMARY = "summary.json"
VIDEO_BATCH = 16     # videos (with their frames) read at a time


@dataclass
class ValidationResult:
    root: str
    report_dir: str
    success: bool
    checks: list[dict[str, Any]]          # one per expectation, failures first
    notes: list[str] = field(default_factory=list)
    docs: str = ""                        # GX Data Docs index.html
    report: str = ""                      # the report's index.html
    summary: str = ""                     # summary.json

    @property
    def failures(self) -> list[dict[str, Any]]:
        return [c for c in self.checks if not c["success"]]


def duplicated(values: pa.ChunkedArray) -> set[str]:
    """Values that occur more than once."""
    if not len(values):
        return set()
    counts = pc.value_counts(values)
    return set(pc.filter(counts.field("values"), pc.greater(counts.field("counts"), 1)).to_pylist())


def _chunks(frames: Iterable[dict[str, pd.DataFrame]], rows: int) -> Iterator[dict[str, pd.DataFrame]]:
    """Concatenate per-table frames until a chunk holds about `rows` rows."""
    pending: dict[str, list[pd.DataFrame]] = {}
    size = 0
    for part in frames:
        for name, f in part.items():
            pending.setdefault(name, []).append(f)
            size += len(f)
        if size >= rows:
            yield {k: pd.concat(v, ignore_index=True) for k, v in pending.items()}
            pending, size = {}, 0
    if pending:
        yield {k: pd.concat(v, ignore_index=True) for k, v in pending.items()}


def validate_dataset(
    root: str,
    report_dir: str | None = None,
    thresholds: Thresholds = Thresholds(),
    chunk_rows: int = 50_000,
) -> ValidationResult:
    """Validate the ingestion folder `root`; write GX Data Docs, the report and summary.json to `report_dir`."""
    from pipelines.validate.gx import GxRunner  # Great Expectations takes seconds to import: only when validating

    check_coverage()  # every declared task's label types have their checks and plots (or are exempt)

    ds = Ingested.open(root)
    report_dir = report_dir or os.path.join(ds.root, "report")
    os.makedirs(report_dir, exist_ok=True)
    notes: list[str] = []
    keys = ds.framed_keys() if ds.frames_expected else set()
    # a run that meant to decode frames is held to them even if none came out; without a manifest,
    # a folder with no frames at all is taken to be labels only
    with_videos = bool(keys) or (ds.frames_expected and ds.manifest is not None)
    if not with_videos:
        why = "ingested with --no-frames" if not ds.frames_expected else "no manifest and no video in videos/ has frames"
        notes.append(f"frame checks and the video-presence check skipped: {why}")
    gx = GxRunner(os.path.join(report_dir, "gx"))
    tables = {t.name: t for t in sample_tables(with_videos)}
    profile = DatasetProfile()

    dup_ids = duplicated(ds.column("samples", "sample_id"))
    batches = (
        sample_frames(t, dup_ids, keys if with_videos else None, profile)
        for t in ds.batches("samples", rows=min(chunk_rows, 50_000))
    )
    for i, chunk in enumerate(_chunks(batches, chunk_rows)):
        for name, frame in chunk.items():
            gx.run(tables[name], frame, f"samples-{i:04d}")

    if with_videos:
        vt = video_table()
        dup_keys = duplicated(ds.column("videos", "video_key"))
        unframed = 0

        def video_parts() -> Iterator[dict[str, pd.DataFrame]]:
            nonlocal unframed
            for t in ds.batches("videos", VIDEO_COLUMNS, rows=VIDEO_BATCH):
                f, missing = video_frame(t, dup_keys)
                unframed += missing
                if not f.empty:
                    profile.add({"videos": f[["duration", "frames.count", "frame_width", "frame_height", "sampled_fps"]]})
                yield {VIDEOS: f}

        for i, chunk in enumerate(_chunks(video_parts(), chunk_rows)):
            gx.run(vt, chunk[VIDEOS], f"videos-{i:04d}")
        if unframed:
            notes.append(f"{unframed} video row(s) without frames were not frame-checked")

    dt, dframe, dnotes = dataset_checks(profile, ds.manifest, thresholds)
    notes.extend(dnotes)
    gx.run(dt, dframe, "dataset")
    docs = gx.build_docs()

    checks = sorted((asdict(o) for o in gx.outcomes.values()), key=lambda c: c["success"])
    result = ValidationResult(
        root=ds.root, report_dir=report_dir, success=all(c["success"] for c in checks), checks=checks,
        notes=notes, docs=docs,
    )
    result.report = write_dataset_report(profile, ds.manifest, result)
    result.summary = storage.write_json(os.path.join(report_dir, SUMMARY), asdict(result), indent=1, default=str)
    return result
