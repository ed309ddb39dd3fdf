"""`vrft mix RECIPE.yaml --out DIR`: ingestion folders -> shuffled training shards, as the recipe says.

Relative source paths in the recipe start at --root (default: the recipe's folder). Shipped recipes:
pipelines/mix/recipes/ (videochat_r1.yaml reproduces the paper's mixture).
"""

from __future__ import annotations

import argparse
from typing import Any

from vrft.errors import UserError
from vrft.table import print_table


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("mix", help="weighted, filtered, deduplicated, leakage-checked training shards", description=__doc__)
    p.add_argument("recipe", metavar="RECIPE.yaml", help="the mixing recipe (format: pipelines/mix/recipe.py; "
                   "shipped ones: pipelines/mix/recipes/)")
    p.add_argument("--out", required=True, metavar="DIR", help="folder for the training shards and manifest.json")
    p.add_argument("--root", metavar="DIR", help="folder the recipe's relative paths start at (default: the recipe's)")
    p.add_argument("--overwrite", action="store_true", help="replace a mixture already in --out")
    p.add_argument("--frames", choices=("required", "optional"), default=None,
                   help="set every training source's `frames:` (default: as the recipe says, required unless it "
                   "says otherwise). optional keeps the rows of videos without frames (ingested with --no-frames): "
                   "enough to check a recipe and evaluate baselines, not to train")
    p.add_argument("--allow-large", action="store_true",
                   help="mix even when the estimate made before mixing is above its limits (rows, GB of shards, "
                        "twice the shards' size free on the output filesystem; a refusal names them)")
    p.set_defaults(func=run)


def print_manifest(m: dict[str, Any], out: str) -> None:
    rows = []
    for s in m["sources"]:
        dropped = ", ".join(f"{k} {v}" for k, v in s["dropped"].items()) or "-"
        rows.append((s["name"], s["available"], dropped, s["eligible"], f"{s['requested_share']:.3f}", s["selected"],
                     f"{s['realised_share']:.3f}", s["repeated"]))
    print_table(f"vrft mix {m['recipe']} (seed {m['seed']}, {'think' if m['think'] else 'no-think'})",
                ["source", "available", "dropped", "eligible", "share asked", "rows", "share got", "repeats"], rows)
    print_table("tasks", ["task", "rows", "share"], [(t, v["rows"], f"{v['share']:.3f}") for t, v in m["tasks"].items()])
    frameless = sum(s["no_frames"] for s in m["sources"])
    if frameless:
        print(f"note: {frameless} rows have no frames (sources with frames: optional); the trainer needs frames")
    if m["leaked_videos_allowed"]:
        print(f"note: leakage allowed: {len(m['leaked_videos_allowed'])} evaluation videos are in the mixture")
    est = m.get("estimate") or {}
    guess = f" (estimated {est['bytes'] / 1e6:,.1f} MB before mixing)" if est else ""
    print(f"wrote {m['rows']} rows in {len(m['shards'])} shards, {m['bytes'] / 1e6:,.1f} MB{guess}, and manifest.json to {out}")


def run(args: argparse.Namespace) -> int:
    from pipelines.ingested import NotIngested  # polars and pyarrow's readers: half a second, for mix only
    from pipelines.mix import RecipeError, load_recipe, run_mix
    from pipelines.mix.join import MixDataError
    from pipelines.outputs import FolderRefused

    try:
        recipe = load_recipe(args.recipe, args.root)
        if args.frames:
            recipe = recipe.with_frames(args.frames)
        result = run_mix(recipe, args.out, args.overwrite, args.allow_large)
    except (RecipeError, NotIngested, MixDataError, FolderRefused) as err:
        raise UserError(str(err)) from None
    print_manifest(result.manifest, result.out)
    return 0
