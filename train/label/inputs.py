"""What `vrft label` labels: training shards or an ingestion folder, cut into units of work, read back as
the examples the trainer would see.

A unit is one row group of a training shard, or one row group of an ingestion folder's `videos/` with
the samples of its videos. Units are planned on the machine that launches the job (sample ids only,
from the Parquet footers and one column), so the job knows how many samples it will label (the
progress bar's total) and which unit labels which sample: a sample id seen twice (a mixture that
repeats rows) is labelled once, by its first unit. A unit is read on a worker: frames checked against
their CRC-32 and decoded (train/data.py, as the trainer does), the prompt rendered (ingestion folders,
`schemas.training_row`, as `vrft mix` does) and encoded by the model's processor (train/inputs.py).
A sample that cannot be read is skipped with its reason, never dropped silently.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Iterator

import schemas
from pipelines import storage
from pipelines.ingested import Ingested
from pipelines.parquet import open_parquet
from schemas.errors import UserError
from train.data import COLUMNS, WHERE, Example, ShardDataError, decode_row

VIDEO_COLUMNS = ["video_key", "timestamps", "sampled_fps", "frame_width", "frame_height", "frames", "frame_crc32"]


@dataclass(frozen=True)
class Unit:
    index: int
    path: str                                   # a training shard, or a videos/ part of an ingestion folder
    row_group: int
    samples: tuple[str, ...]                    # the sample ids this unit labels, in order
    rows: tuple[dict[str, Any], ...] = ()       # ingestion folders: those samples' rows (labels, no frames)
    think: bool = True                          # ingestion folders: the prompt variant


@dataclass
class Plan:
    kind: str                                   # "shards" | "ingested"
    units: list[Unit]
    skipped: dict[str, list[str]] = field(default_factory=dict)   # reason -> sample ids not labelled

    @property
    def samples(self) -> int:
        return sum(len(u.samples) for u in self.units)


def plan(data: str, think: bool = True) -> Plan:
    """The units of `data`: an ingestion folder (it has samples/) or training shards (a folder or a glob)."""
    if not storage.is_remote(data) and os.path.isdir(os.path.join(data, "samples")):
        return _plan_ingested(data, think)
    return _plan_shards(data)


def _shard_files(data: str) -> list[str]:
    pattern = data if any(ch in data for ch in "*?[") or data.endswith(".parquet") else storage.join(data, "*.parquet")
    files = [p for p in storage.glob(pattern) if not storage.is_temp(p)]
    if not files:
        raise UserError(f"{data}: no training shards (*.parquet) and no ingestion folder (samples/) there")
    return files


def _group_bounds(pf) -> list[tuple[int, int]]:
    at, out = 0, []
    for g in range(pf.metadata.num_row_groups):
        n = pf.metadata.row_group(g).num_rows
        out.append((at, at + n))
        at += n
    return out


def _plan_shards(data: str) -> Plan:
    seen: set[str] = set()
    units, duplicates = [], []
    for path in _shard_files(data):
        pf = open_parquet(path)
        if "sample_id" not in pf.schema_arrow.names or "videos" not in pf.schema_arrow.names:
            raise UserError(f"{path} is not a training shard (no sample_id and videos columns)")
        ids = pf.read(columns=["sample_id"]).column(0).to_pylist()
        for g, (a, b) in enumerate(_group_bounds(pf)):
            mine = []
            for sid in ids[a:b]:
                if sid in seen:
                    duplicates.append(sid)
                else:
                    seen.add(sid)
                    mine.append(sid)
            units.append(Unit(len(units), path, g, tuple(mine)))
    return Plan("shards", units, {"duplicate": duplicates} if duplicates else {})


def _plan_ingested(folder: str, think: bool) -> Plan:
    ds = Ingested.open(folder)
    samples = ds.scan("samples").collect().sort("sample_id")
    by_video: dict[str, list[dict[str, Any]]] = {}
    for row in samples.iter_rows(named=True):
        by_video.setdefault(row["video_key"], []).append(row)
    units = []
    for path in ds.parts("videos"):
        pf = open_parquet(path)
        table = pf.read(columns=["video_key", "timestamps"])
        keys, times = table.column(0).to_pylist(), table.column(1).to_pylist()
        for g, (a, b) in enumerate(_group_bounds(pf)):
            rows = [r for k, t in zip(keys[a:b], times[a:b]) if t for r in by_video.pop(k, [])]
            units.append(Unit(len(units), path, g, tuple(r["sample_id"] for r in rows), tuple(rows), think))
    unframed = sorted(r["sample_id"] for rows in by_video.values() for r in rows)
    return Plan("ingested", units, {"no_frames": unframed} if unframed else {})


# ---- on a worker ----------------------------------------------------------------------------------


Skip = tuple[str, str, str]   # (sample id, reason, detail)


def read_unit(unit: Unit) -> Iterator[Example | Skip]:
    """The unit's examples in order, or a Skip for each sample that cannot be shown to a model."""
    pf = open_parquet(unit.path)
    name = storage.basename(unit.path)
    if unit.rows:
        yield from _ingested_examples(unit, pf.read_row_group(unit.row_group, columns=VIDEO_COLUMNS).to_pylist())
        return
    wanted = set(unit.samples)
    first = _group_bounds(pf)[unit.row_group][0]
    for k, row in enumerate(pf.read_row_group(unit.row_group, columns=COLUMNS).to_pylist()):
        if row["sample_id"] not in wanted:
            continue
        wanted.discard(row["sample_id"])  # a repeat inside the unit is labelled once
        try:
            yield decode_row(first + k, {**row, WHERE: f"{name} row {first + k}"})
        except ShardDataError as err:
            yield row["sample_id"], "frames_unreadable", str(err)


def _ingested_examples(unit: Unit, videos: list[dict[str, Any]]) -> Iterator[Example | Skip]:
    entries: dict[str, Any] = {}
    for video in videos:
        try:
            entries[video["video_key"]] = schemas.video_entry(video, verify=False)  # decode_row verifies
        except schemas.FrameError as err:
            entries[video["video_key"]] = err
    for index, sample in enumerate(unit.rows):
        entry = entries.get(sample["video_key"])
        if isinstance(entry, Exception) or entry is None:
            yield sample["sample_id"], "frames_unreadable", f"video {sample['video_key']}: {entry or 'not in its part'}"
            continue
        try:
            row = schemas.training_row(sample, entry, think=unit.think, index=index)
            yield decode_row(index, {**row, WHERE: f"{storage.basename(unit.path)} video {sample['video_key']}"})
        except ShardDataError as err:
            yield sample["sample_id"], "frames_unreadable", str(err)
        except ValueError as err:
            yield sample["sample_id"], "labels_unusable", str(err)
