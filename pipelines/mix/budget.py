"""How much a mixture will write, estimated before any row is drawn or any frame read; refused when too much.

One number in a recipe (`total`) decides the work: 10^8 rows once ran a machine out of memory and 10^6
filled a disk. So `select` hands the allocation (rows per source, before drawing them) to `Budget.check`,
which estimates the shards' rows and bytes from the selection and the frames' sizes, and refuses, naming
the numbers, a mixture above:

- `MAX_ROWS` rows: the labels of the chosen rows are the one thing mixing holds in memory for the whole
  run (about 300 bytes a row in polars, a few copies while sorting);
- `MAX_BYTES` of shards;
- the free space of the output filesystem: the spilled rows and the finished shards are both there until
  the end, so a mix needs about twice the shards' size (`DISK_FACTOR`);

unless the user asks (`vrft mix --allow-large`). The frames' sizes come from the Parquet footers of
videos/ (bytes of the frames column per row group, uncompressed as stored) and each video's frame
count (its small `frame_crc32` column): no frame is read. The estimate is the expectation of the draw:
each source gives `count` rows drawn evenly from its eligible rows.

Memory is bounded by design elsewhere: the join streams a few videos at a time and spills rows to disk
(`join.py`); what grows with the mixture is the selection, which MAX_ROWS bounds.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from typing import Sequence

import polars as pl

from pipelines.budget import human
from pipelines.ingested import Ingested
from pipelines.mix.recipe import RecipeError
from pipelines.parquet import open_parquet

MAX_ROWS = 5_000_000
MAX_BYTES = 500 * 10**9
DISK_FACTOR = 2.0            # spill + shards, both on the output filesystem until the end
ROW_BYTES = 1024             # a row beside its frames: prompt, truth, ids (a few hundred bytes, rounded up)
FRAMES_COLUMN = "frames.list.element"
SIZES = {"_folder": pl.String, "video_key": pl.String, "_bytes": pl.Float64}


class TooLarge(RecipeError):
    """The mixture would be larger than the limits; `--allow-large` lifts them."""


@dataclass(frozen=True)
class Estimate:
    rows: int
    bytes: int


def video_bytes(folder: str) -> dict[str, float]:
    """video key -> estimated bytes of its frames: its frame count times the mean frame size of its row group."""
    out: dict[str, float] = {}
    for path in Ingested(folder).parts("videos"):
        pf = open_parquet(path)
        meta = pf.metadata
        at = 0
        columns = pf.read(columns=["video_key", "frame_crc32"])
        keys = columns.column("video_key").to_pylist()
        counts = [len(c or ()) for c in columns.column("frame_crc32").to_pylist()]
        for g in range(meta.num_row_groups):
            group = meta.row_group(g)
            size = sum(group.column(i).total_uncompressed_size for i in range(group.num_columns)
                       if group.column(i).path_in_schema == FRAMES_COLUMN)
            n = group.num_rows
            frames = sum(counts[at:at + n])
            for key, count in zip(keys[at:at + n], counts[at:at + n]):
                out.setdefault(key, size * count / frames if frames else 0.0)
            at += n
    return out


def estimate(eligible: Sequence[pl.DataFrame], counts: Sequence[int]) -> Estimate:
    """Rows and bytes of the shards when source i gives counts[i] rows drawn from eligible[i] (rows with
    `_folder`, `video_key`, `_framed`)."""
    sizes: dict[str, pl.DataFrame] = {}
    total = 0.0
    for rows, k in zip(eligible, counts):
        if not k or not len(rows):
            continue
        for folder in rows["_folder"].unique().to_list():
            if folder not in sizes:
                found = video_bytes(folder)
                sizes[folder] = pl.DataFrame({"_folder": [folder] * len(found), "video_key": list(found),
                                              "_bytes": list(found.values())}, schema=SIZES)
        table = pl.concat([sizes[f] for f in rows["_folder"].unique().to_list()])
        joined = rows.select("_folder", "video_key", "_framed").join(table, on=["_folder", "video_key"], how="left")
        frames = joined.select((pl.col("_bytes").fill_null(0.0) * pl.col("_framed").cast(pl.Float64)).mean()).item()
        total += k * (ROW_BYTES + (frames or 0.0))
    return Estimate(int(sum(counts)), int(total))


def free_bytes(out: str) -> int:
    """Free space of the filesystem `out` is (or will be) on."""
    path = os.path.abspath(out)
    while not os.path.exists(path):
        path = os.path.dirname(path)
    return shutil.disk_usage(path).free


@dataclass
class Budget:
    """The limits a mixture into `out` must stay under (none with `allow_large`); `check` records the estimate."""

    out: str
    allow_large: bool = False
    max_rows: int = MAX_ROWS
    max_bytes: int = MAX_BYTES
    estimate: Estimate | None = field(default=None, init=False)

    def check(self, eligible: Sequence[pl.DataFrame], counts: Sequence[int]) -> None:
        """Estimate the shards of this allocation; raise TooLarge when it is above a limit (see the module)."""
        self.estimate = est = estimate(eligible, counts)
        if self.allow_large:
            return
        problems = []
        if est.rows > self.max_rows:
            problems.append(f"{est.rows:,} rows is above the limit of {self.max_rows:,}")
        if est.bytes > self.max_bytes:
            problems.append(f"about {human(est.bytes, 'bytes')} of shards is above the limit of {human(self.max_bytes, 'bytes')}")
        free = free_bytes(self.out)
        if est.bytes * DISK_FACTOR > free:
            problems.append(f"mixing needs about {human(est.bytes * DISK_FACTOR, 'bytes')} on the output filesystem "
                            f"({DISK_FACTOR:g}x the shards while they are made) and {human(free, 'bytes')} is free")
        if problems:
            raise TooLarge(f"the recipe asks for {est.rows:,} rows, about {human(est.bytes, 'bytes')} of shards: "
                           + "; ".join(problems) + ". Lower `total` (or the sources), or pass --allow-large")
