"""Training mixtures: ingestion folders -> weighted, filtered, deduplicated, leakage-checked training shards.

    from pipelines.mix import load_recipe, run_mix
    result = run_mix(load_recipe("pipelines/mix/recipes/videochat_r1.yaml", root="data"), "mixes/vcr1")
"""

from pipelines.mix.leakage import LeakageError
from pipelines.mix.recipe import Recipe, RecipeError, load_recipe, parse_recipe
from pipelines.mix.run import MixResult, run_mix

__all__ = ["LeakageError", "MixResult", "Recipe", "RecipeError", "load_recipe", "parse_recipe", "run_mix"]

RECIPES_DIR = __path__[0] + "/recipes"
