"""Reward-label folders (`vrft label`): their layout, their tables' schemas, and reading them back.

    OUT/
      labels/part-IIIII-of-NNNNN.parquet        one row per sample (keyed by sample_id): reward statistics
                                                over G completions (rewards.group_stats), the model's
                                                fingerprint, the profile, G and the seed
      labels/.part-IIIII-of-NNNNN.json          the record of a finished unit of work: which samples were
                                                skipped and why (its presence marks the unit done)
      completions/part-IIIII-of-NNNNN.parquet   with --keep-completions: every completion, scored
      .vrft-label.json                          the run's settings, written first (--resume checks them)
      manifest.json                             written last: its presence marks a finished run
      .vrft-owned.json, .vrft-lock.json         the folder's marker and lock (pipelines/outputs.py)

A unit is a row group of a training shard or of an ingestion folder's videos/; its part files appear
(atomically) when all its samples are labelled, then its record. No part file is written without rows: a
unit whose samples were all skipped has its record alone.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

import schemas
from pipelines import layout, storage

LABELS = "labels"
COMPLETIONS = "completions"
RUN_FILE = ".vrft-label.json"
KIND = "label"                      # the kind its marker records (pipelines/outputs.py)
ENTRIES = (LABELS, COMPLETIONS, RUN_FILE, layout.MANIFEST)   # what vrft writes there (the marker's names)
# the statistics every sample has, whatever its task (the recipe filters of pipelines/mix name these)
STATS = ("reward_mean", "reward_std", "success", "unparsed", "truncated", "completion_length")


class NotLabels(ValueError):
    """The folder is not a finished label folder (a user mistake: the message says what is missing)."""


def components() -> list[str]:
    """Every reward component of the declared tasks, "format" first, then by name."""
    names = {c for task in schemas.tasks() for c in task.components}
    return [schemas.FORMAT] + sorted(names - {schemas.FORMAT})


def label_schema() -> pa.Schema:
    per_component = [pa.field(f"{c}_{s}", pa.float64()) for c in components() for s in ("mean", "std")]
    return pa.schema([
        pa.field("sample_id", pa.string(), nullable=False),
        pa.field("task", pa.string(), nullable=False),
        pa.field("model", pa.string(), nullable=False),        # content fingerprint of the model folder
        pa.field("profile", pa.string(), nullable=False),
        pa.field("group_size", pa.int32(), nullable=False),
        pa.field("seed", pa.int64(), nullable=False),
        *[pa.field(s, pa.float64(), nullable=False) for s in STATS],
        *per_component,                                       # null where the task has no such component
    ])


def completions_schema() -> pa.Schema:
    return pa.schema([
        pa.field("sample_id", pa.string(), nullable=False),
        pa.field("completion", pa.int32(), nullable=False),   # 0 .. G-1: its seeded stream
        pa.field("text", pa.string(), nullable=False),
        pa.field("tokens", pa.int32(), nullable=False),
        pa.field("truncated", pa.bool_(), nullable=False),
        pa.field("total", pa.float64(), nullable=False),
        pa.field("success", pa.bool_(), nullable=False),
        pa.field("unparsed", pa.bool_(), nullable=False),
        *[pa.field(c, pa.float64()) for c in components()],
    ])


def unit_part(folder: str, table: str, index: int, count: int) -> str:
    return layout.part_path(folder, table, index, count)


def unit_record(folder: str, index: int, count: int) -> str:
    return layout.batch_record(folder, LABELS, index, count)


def finished_units(folder: str) -> list[str]:
    return layout.batch_records(folder, LABELS)


def read_labels(folder: str) -> Any:
    """A finished label folder's table as a polars DataFrame; refused when the run did not finish."""
    import polars as pl

    if not storage.isdir(folder):
        raise NotLabels(f"{folder} is not a folder")
    if not storage.exists(layout.manifest_path(folder)) or not storage.exists(storage.join(folder, RUN_FILE)):
        raise NotLabels(f"{folder} holds no finished labeling run (no {RUN_FILE} and manifest.json); "
                        "finish it with `vrft label ... --resume`")
    files = layout.parts(folder, LABELS)
    if not files:
        return pl.from_arrow(label_schema().empty_table())
    return pl.read_parquet(files)
