"""`run_mix`: recipe -> selection -> shards -> manifest.json, into an output folder that fills atomically.

Each shard appears by rename when complete and manifest.json is written last, so a folder with a
manifest is a finished mixture. A folder that already holds a mixture is refused unless `overwrite`;
one that holds an ingestion run or files vrft did not write, or that is (or holds, or lies inside) a
folder the recipe reads, is refused outright. The folder is locked while the mixture is made.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

import schemas
from pipelines import layout, outputs, storage
from pipelines.mix.budget import Budget, Estimate
from pipelines.mix.join import write_shards
from pipelines.mix.recipe import Recipe, RecipeError
from pipelines.mix.select import Selection, realised, select


@dataclass
class MixResult:
    out: str
    manifest: dict[str, Any]


def prepare_out(out: str, overwrite: bool) -> None:
    """A folder for a mixture: new, empty, or holding one (replaced only with `overwrite`, and then only
    what vrft wrote there). An ingestion folder, or one holding files vrft did not write, is refused."""
    if storage.exists(out) and not storage.isdir(out):
        raise RecipeError(f"--out {out} exists and is not a folder")
    entries = layout.ENTRIES[layout.MIX]
    kind = layout.claim(out, layout.MIX, entries, "a mixture", "mix")
    if kind and not overwrite:
        raise RecipeError(f"{out} already holds a mixture; pass --overwrite to replace it")
    if kind:
        outputs.clear(out, entries)
    storage.makedirs(out)
    outputs.mark(out, layout.MIX, entries)


def recipe_folders(recipe: Recipe) -> dict[str, str]:
    """Every folder the recipe reads, by the source (or `labels:` entry) that names it."""
    sources = {f"source {s.name} ({folder})": folder for s in (*recipe.sources, *recipe.evaluation) for folder in s.folders()}
    return {**sources, **{f"labels ({folder})": folder for folder in recipe.labels}}


def build_manifest(recipe: Recipe, sel: Selection, shards: list[dict[str, Any]], timings: dict[str, float],
                   estimate: Estimate | None = None) -> dict[str, Any]:
    shares = realised(sel.stats)
    by_task: dict[str, int] = {}
    for s in sel.stats:
        for task, n in s.by_task.items():
            by_task[task] = by_task.get(task, 0) + n
    total = sum(by_task.values()) or 1
    return {
        "schema_version": schemas.SCHEMA_VERSION,
        "recipe": recipe.name,
        "seed": recipe.seed,
        "think": recipe.think,
        "rows": len(sel.rows),
        "sources": [{**asdict(s), "realised_share": shares[s.name]} for s in sel.stats],
        "tasks": {t: {"rows": n, "share": n / total} for t, n in sorted(by_task.items())},
        "leaked_videos_allowed": sel.leaked_videos,
        "labels": sel.labels,
        "shards": shards,
        "estimate": asdict(estimate) if estimate else None,     # made before mixing (budget.py)
        "bytes": sum(s["bytes"] for s in shards),
        "recipe_given": recipe.raw,
        "timings": timings,
    }


def run_mix(recipe: Recipe, out: str, overwrite: bool = False, allow_large: bool = False) -> MixResult:
    """Select and write under the output folder's lock; the recipe's folders are inputs, never outputs.
    A mixture estimated above the budget's limits (budget.py) is refused before any row is drawn,
    unless `allow_large`."""
    recipe.check_sources()   # every missing source named at once, before recipe_folders meets the first
    outputs.check_apart(out, recipe_folders(recipe))
    with outputs.locked(out, "mix"):
        return _mix(recipe, out, overwrite, allow_large)


def _mix(recipe: Recipe, out: str, overwrite: bool, allow_large: bool) -> MixResult:
    t0 = time.perf_counter()
    budget = Budget(out, allow_large)
    sel = select(recipe, budget.check)
    if not len(sel.rows):
        empty = [f"{s.name} ({s.available} rows, dropped {s.dropped or 'none'})" for s in sel.stats if not s.eligible]
        raise RecipeError("the recipe selects no rows; sources with nothing left: " + ("; ".join(empty) or "none"))
    t1 = time.perf_counter()
    prepare_out(out, overwrite)
    shards = write_shards(sel.rows, out, recipe.rows_per_shard, recipe.think)
    t2 = time.perf_counter()
    manifest = build_manifest(recipe, sel, shards, {"select_s": t1 - t0, "write_s": t2 - t1, "total_s": t2 - t0},
                              budget.estimate)
    storage.write_json(layout.manifest_path(out), manifest, indent=1, default=str)
    return MixResult(out, manifest)
