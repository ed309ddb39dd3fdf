"""Reward labels in a mixture: the recipe's label folders (`vrft label`) joined on sample_id, so label
filters (`reward_std: {min: 0.01}`, `success: {min: 0.1, max: 0.9}`) and difficulty weights can use them.

The joined columns are `label_<stat>` (pipelines/labels.STATS). A sample labelled in two folders is
refused (which label would count?). A row without a label, in a source that a label filter or the
difficulty weights reach, is refused (`unlabeled: refuse`, naming how many and one of them) or dropped
and counted (`unlabeled: drop`, reason `no_label`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from pipelines import labels, layout, storage
from pipelines.mix.recipe import LABEL_FILTERS, Difficulty, Recipe, RecipeError, Source

PREFIX = "label_"


def column(stat: str) -> str:
    return PREFIX + stat


@dataclass
class Labels:
    table: pl.DataFrame             # sample_id, label_<stat>..., _labels (the folder)
    unlabeled: str                  # refuse | drop
    by_difficulty: bool             # the difficulty weights read every source's labels
    folders: dict[str, Any]         # folder -> what made its labels (model, profile, G, seed), for the manifest

    def needed_by(self, src: Source) -> bool:
        return self.by_difficulty or any(name in LABEL_FILTERS for name, _ in src.filters.items())


def load(recipe: Recipe) -> Labels | None:
    """The recipe's label folders as one table, or None when it names none."""
    if not recipe.labels:
        return None
    frames, made_by = [], {}
    for folder in recipe.labels:
        try:
            table = labels.read_labels(folder)
        except labels.NotLabels as err:
            raise RecipeError(f"labels: {err}") from None
        settings = storage.read_json(layout.manifest_path(folder)).get("settings", {})
        made_by[folder] = {k: settings.get(k) for k in ("model_fingerprint", "profile", "group_size", "seed")}
        made_by[folder]["rows"] = len(table)
        frames.append(table.select("sample_id", *labels.STATS).with_columns(pl.lit(folder).alias("_labels")))
    table = pl.concat(frames, how="vertical_relaxed")
    twice = table.filter(pl.col("sample_id").is_duplicated()).sort("sample_id", maintain_order=True)
    if len(twice):
        sid = twice["sample_id"][0]
        where = " and ".join(twice.filter(pl.col("sample_id") == sid)["_labels"].to_list())
        raise RecipeError(f"labels: sample {sid} is labelled in {where}; give each sample one label "
                          f"({twice['sample_id'].n_unique()} samples are labelled twice)")
    table = table.rename({s: column(s) for s in labels.STATS})
    return Labels(table, recipe.unlabeled, recipe.difficulty is not None, made_by)


def join(rows: pl.DataFrame, src: Source, found: Labels | None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(rows with their labels joined, the rows dropped for having none). Refuses unlabelled rows where
    the source needs labels and the recipe says `unlabeled: refuse`."""
    if found is None:
        return rows, rows.clear()
    rows = rows.join(found.table.drop("_labels"), on="sample_id", how="left", maintain_order="left")
    if not found.needed_by(src):
        return rows, rows.clear()
    missing = rows.filter(pl.col(column(labels.STATS[0])).is_null())
    if len(missing) and found.unlabeled == "refuse":
        raise RecipeError(
            f"source {src.name}: {len(missing)} of {len(rows)} rows have no reward label in {', '.join(found.folders)} "
            f"(e.g. sample {missing['sample_id'][0]}); label them with `vrft label` or set `unlabeled: drop`"
        )
    return rows.filter(pl.col(column(labels.STATS[0])).is_not_null()), missing


def weights(part: pl.DataFrame, difficulty: Difficulty) -> np.ndarray:
    """Each row's draw weight: the weight of the bin its label falls in ([edge_i, edge_i+1), the last bin
    closed; values outside the edges go to the end bins)."""
    values = part[column(difficulty.by)].to_numpy().astype(float)
    bins = np.searchsorted(np.asarray(difficulty.bins, dtype=float), values, side="right") - 1
    return np.asarray(difficulty.weights, dtype=float)[np.clip(bins, 0, len(difficulty.weights) - 1)]

