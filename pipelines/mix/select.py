"""Which sample rows go into the mixture, and where: polars on the label tables only (no frames).

Per source: rows of the asked tasks and splits; rows whose video has no frames (unless the source
says `frames: optional`); the filters. Across sources: duplicates of (video, task, query, labels)
keep their first row (sources in recipe order, then sample id). Then the leakage guard (`leakage.py`), the
allocation (`allocate.py`), a seeded draw per source and one seeded shuffle that gives every chosen
row its position in the output. Every dropped row is counted by reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np
import polars as pl
import pyarrow as pa

import schemas
from pipelines.ingested import Ingested, NotIngested
from pipelines.mix import allocate, labelled
from pipelines.mix.leakage import guard_leakage
from pipelines.mix.recipe import LABEL_FILTERS, Range, Recipe, RecipeError, Source
from schemas.labels.span import SPAN_TYPE


@dataclass
class SourceStats:
    name: str
    available: int = 0                      # rows of the asked tasks and splits
    dropped: dict[str, int] = field(default_factory=dict)
    dropped_by_task: dict[str, dict[str, int]] = field(default_factory=dict)   # reason -> task -> rows
    eligible: int = 0                       # after frames, filters, dedup, leakage and cap
    requested_share: float = 0.0
    selected: int = 0                       # rows written (repeats included)
    repeated: int = 0                       # rows written more than once, counted per extra copy
    no_frames: int = 0                      # rows written without frames (frames: optional)
    by_task: dict[str, int] = field(default_factory=dict)

    def drop(self, reason: str, n: int, by_task: Mapping[str, int] | None = None) -> None:
        if n:
            self.dropped[reason] = self.dropped.get(reason, 0) + n
        for task, k in (by_task or {}).items():
            tasks = self.dropped_by_task.setdefault(reason, {})
            tasks[task] = tasks.get(task, 0) + k

    def drop_rows(self, reason: str, rows: pl.DataFrame) -> None:
        """Count dropped rows by reason and by task."""
        self.drop(reason, len(rows), task_counts(rows))


def task_counts(rows: pl.DataFrame) -> dict[str, int]:
    return dict(sorted(rows.group_by("task").len().iter_rows())) if len(rows) else {}


@dataclass
class Selection:
    rows: pl.DataFrame                      # sample columns + _source, _folder, _framed, _pos
    stats: list[SourceStats]
    leaked_videos: list[str] = field(default_factory=list)   # kept with `leakage: allow`
    labels: dict[str, dict] = field(default_factory=dict)     # label folder -> what made its labels


def interval_columns() -> tuple[list[str], list[str]]:
    """(single-interval, interval-list) columns of `samples`, read from the declared label types."""
    types = {f.name: f.type for f in schemas.samples_schema()}
    return [n for n, t in types.items() if t == SPAN_TYPE], [n for n, t in types.items() if t == pa.list_(SPAN_TYPE)]


def measure(name: str) -> pl.Expr:
    """The value a filter bounds; null where it does not apply (such rows pass)."""
    if name in LABEL_FILTERS:
        return pl.col(labelled.column(name))
    if name == "duration":
        return pl.col("duration")
    if name == "query_words":
        return pl.col("query").str.count_matches(r"\S+")
    single, many = interval_columns()
    lengths = [pl.col(c).struct.field("end") - pl.col(c).struct.field("start") for c in single]
    lengths += [pl.col(c).list.eval(pl.element().struct.field("end") - pl.element().struct.field("start")).list.sum() for c in many]
    return pl.coalesce(lengths) / pl.col("duration")


def keep(name: str, rng: Range) -> pl.Expr:
    value = measure(name)
    ok = pl.lit(True)
    if rng.min is not None:
        ok = ok & (value >= rng.min)
    if rng.max is not None:
        ok = ok & (value <= rng.max)
    return value.is_null() | ok


def load_source(src: Source, index: int, stats: SourceStats, labels: labelled.Labels | None = None) -> pl.DataFrame:
    parts = []
    for folder in src.folders():
        ds = Ingested.open(folder)
        frame = ds.scan("samples")
        if src.tasks:
            frame = frame.filter(pl.col("task").is_in(list(src.tasks)))
        if src.splits:
            frame = frame.filter(pl.col("split").is_in(list(src.splits)))
        try:
            frame = frame.collect().sort("sample_id")
        except (pl.exceptions.PolarsError, OSError) as err:
            raise NotIngested(f"{folder}: its samples/ cannot be read ({str(err).splitlines()[0]}); ingest it again") from None
        keys = ds.framed_keys() if ds.frames_expected else set()
        if not keys and src.frames == "required" and len(frame):
            raise RecipeError(
                f"source {src.name}: {folder} has no frames (ingested with --no-frames?); "
                "add `frames: optional` to the source to use its rows without frames"
            )
        parts.append(frame.with_columns(
            pl.lit(index).alias("_source"), pl.lit(folder).alias("_folder"),
            pl.col("video_key").is_in(list(keys)).alias("_framed"),
        ))
    rows = pl.concat(parts, how="vertical_relaxed")
    stats.available = len(rows)
    if src.frames == "required":
        stats.drop_rows("no_frames", rows.filter(~pl.col("_framed")))
        rows = rows.filter(pl.col("_framed"))
    rows, unlabelled = labelled.join(rows, src, labels)
    stats.drop_rows("no_label", unlabelled)
    for name, rng in src.filters.items():
        stats.drop_rows(f"filter_{name}", rows.filter(~keep(name, rng)))
        rows = rows.filter(keep(name, rng))
    return rows


def dedup(rows: pl.DataFrame, stats: list[SourceStats]) -> pl.DataFrame:
    """Keep the first of rows with the same video, task, query (case and spaces ignored) and labels."""
    labels = [f.name for f in schemas.tables.label_fields()]
    key = pl.struct([pl.col("video_key"), pl.col("task"),
                     pl.col("query").str.to_lowercase().str.replace_all(r"\s+", " ").str.strip_chars(), *labels])
    first = rows.select(key.is_first_distinct()).to_series()
    dropped = rows.filter(~first).group_by("_source").len()
    for src, n in dropped.iter_rows():
        stats[src].drop("duplicate", n)
    return rows.filter(first)


def select(recipe: Recipe, budget: Callable[[list[pl.DataFrame], list[int]], None] | None = None) -> Selection:
    """The chosen rows with their output positions. `budget(eligible rows per source, rows per source)`
    runs before any row is drawn (budget.Budget.check refuses a mixture too large to make)."""
    stats = [SourceStats(s.name) for s in recipe.sources]
    labels = labelled.load(recipe)
    loaded = [load_source(s, i, stats[i], labels) for i, s in enumerate(recipe.sources)]
    rows = pl.concat(loaded, how="vertical_relaxed")
    if recipe.dedup:
        rows = dedup(rows, stats)
    rows, leaked = guard_leakage(rows, recipe, stats)
    per_source = [rows.filter(pl.col("_source") == i) for i in range(len(recipe.sources))]
    # every source draws (cap, then sample) from its own seeded streams; the shuffle has its own
    streams = np.random.SeedSequence(recipe.seed).spawn(len(per_source) + 1)
    seeds = [s.spawn(2) for s in streams[:-1]]
    for i, (src, part) in enumerate(zip(recipe.sources, per_source)):
        if src.cap is not None and len(part) > src.cap:
            pick = np.random.default_rng(seeds[i][0]).choice(len(part), src.cap, replace=False)
            stats[i].drop("cap", len(part) - src.cap)
            per_source[i] = part[np.sort(pick).tolist()]
        stats[i].eligible = len(per_source[i])
    sizes = [len(p) for p in per_source]
    weights = [s.weight for s in recipe.sources] if recipe.weighted and recipe.temperature is None else None
    wanted = allocate.shares(sizes, weights, recipe.temperature)
    counts = allocate.counts(sizes, wanted, recipe.total, proportional=not recipe.weighted)
    if budget is not None:
        budget(per_source, counts)
    chosen = []
    for i, (part, k) in enumerate(zip(per_source, counts)):
        by = labelled.weights(part, recipe.difficulty) if recipe.difficulty is not None and len(part) else None
        idx = allocate.draw(len(part), k, np.random.default_rng(seeds[i][1]), by)
        stats[i].requested_share, stats[i].selected = wanted[i], len(idx)
        stats[i].repeated = len(idx) - len(np.unique(idx))
        chosen.append(part[idx] if len(idx) else part.clear())
    out = pl.concat(chosen, how="vertical_relaxed")
    order = np.random.default_rng(streams[-1]).permutation(len(out))
    out = out.with_columns(pl.Series("_pos", order, dtype=pl.Int64))
    for i, part in enumerate(chosen):
        stats[i].by_task = task_counts(part)
        stats[i].no_frames = int((~part["_framed"]).sum()) if len(part) else 0
    return Selection(out, stats, leaked, labels.folders if labels else {})


def realised(stats: list[SourceStats]) -> Mapping[str, float]:
    total = sum(s.selected for s in stats) or 1
    return {s.name: s.selected / total for s in stats}
