"""A mixing recipe: YAML -> plain, checked data. Unknown keys and impossible values are refused here.

    seed: 0                      # sampling and shuffling
    think: true                  # prompt variant (false: the no-think prompt)
    rows_per_shard: 256          # training rows per output file
    total: 20000                 # optional: rows wanted (default: see below)
    temperature: 2.0             # optional, instead of weights: shares proportional to size ** (1 / T)
    dedup: true                  # drop rows with the same (video, task, query, labels)
    leakage: refuse              # refuse | drop | allow: training videos that an evaluation source holds
    filters:                     # for every source (a source's own `filters` override these by name)
      duration: {min: 2, max: 600}       # seconds
      span_fraction: {max: 0.9}          # labelled time / duration (span or evidence spans)
      query_words: {min: 2, max: 80}
      reward_std: {min: 0.01}            # reward labels (needs `labels`): any column of pipelines/labels.STATS
      success: {min: 0.1, max: 0.9}      #   reward_mean, reward_std, success, unparsed, truncated, completion_length
    labels: [labels/qwen7b]      # optional: label folders of `vrft label`, joined on sample_id
    unlabeled: refuse            # refuse | drop: rows without a label when label filters or difficulty are set
    difficulty:                  # optional (needs `labels`): rows drawn in proportion to a weight by a label
      by: success                #   a label column
      bins: [0, 0.2, 0.8, 1]     #   ascending edges; values outside go to the end bins
      weights: [1, 3, 1]         #   one per bin (> 0): a row's expected copies are proportional to its weight
    sources:
      - name: charades_train     # optional (default: the path)
        path: charades_sta_train # an ingestion folder or a glob of them, relative to the recipe's root
        task: temporal_grounding # optional: one name or a list
        split: train             # optional: one name or a list
        weight: 2                # optional: all sources or none
        cap: 5000                # optional: at most this many distinct rows
        frames: required         # required | optional (rows of videos without frames get no video)
    evaluation:                  # sources whose videos must not be trained on
      - path: charades_sta_test

Without weights or temperature the mixture is plain concatenation (each source's share is its size).
With them, `total` defaults to the largest mixture that repeats no row; a larger `total` repeats rows.
`difficulty` changes which rows fill a source's count, never the count: with plain concatenation a row of
weight 3 among rows of weight 1 is expected about three times as often as they are.
"""

from __future__ import annotations

import dataclasses
import glob
import os
from dataclasses import dataclass
from typing import Any, ClassVar, Mapping

import schemas
from pipelines.labels import STATS
from schemas.config import ConfigError, build, read_yaml, setting

LEAKAGE = ("refuse", "drop", "allow")
FRAMES = ("required", "optional")
UNLABELED = ("refuse", "drop")


class RecipeError(ValueError):
    """The recipe cannot be used as written (a user mistake; the message names the key)."""


@dataclass(frozen=True)
class Range:
    min: float | None = setting(None, min=0)
    max: float | None = setting(None, min=0)

    def __post_init__(self) -> None:
        if self.min is None and self.max is None:
            raise ConfigError("expected {min: X, max: Y} (either may be left out)")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ConfigError(f"min {self.min} > max {self.max}")


@dataclass(frozen=True)
class Filters:
    config_item: ClassVar[str] = "filter"
    duration: Range | None = None        # seconds
    span_fraction: Range | None = None   # labelled time / duration (span or evidence spans)
    query_words: Range | None = None
    # reward labels (pipelines/labels.STATS), joined on sample_id from the recipe's `labels`
    reward_mean: Range | None = None
    reward_std: Range | None = None
    success: Range | None = None
    unparsed: Range | None = None
    truncated: Range | None = None
    completion_length: Range | None = None

    def items(self) -> list[tuple[str, Range]]:
        """(filter name, range) of the filters set."""
        return [(f.name, getattr(self, f.name)) for f in dataclasses.fields(self) if getattr(self, f.name) is not None]

    def over(self, shared: "Filters") -> "Filters":
        """These filters, and the shared ones where these leave a filter unset."""
        return Filters(**{**dict(shared.items()), **dict(self.items())})


FILTERS = tuple(f.name for f in dataclasses.fields(Filters))
LABEL_FILTERS = tuple(f for f in FILTERS if f in STATS)
if LABEL_FILTERS != STATS:  # the label columns and the filters are one list
    raise ImportError(f"recipe filters {LABEL_FILTERS} do not cover the label statistics {STATS}")


@dataclass(frozen=True)
class Difficulty:
    by: str = setting("success", choices=STATS)
    bins: tuple[float, ...] = setting((), required=True)
    weights: tuple[float, ...] = setting((), required=True, above=0)

    def __post_init__(self) -> None:
        if len(self.bins) < 2 or any(lo >= hi for lo, hi in zip(self.bins, self.bins[1:])):
            raise ConfigError(f"expected at least two ascending edges, got {list(self.bins)}", "bins")
        if len(self.weights) != len(self.bins) - 1:
            raise ConfigError(f"expected one weight per bin ({len(self.bins) - 1}), got {len(self.weights)}", "weights")


@dataclass(frozen=True)
class Source:
    path: str = setting("", required=True)  # an ingestion folder or a glob of them (absolute once resolved)
    name: str = ""                          # default: the path as written
    tasks: tuple[str, ...] | None = setting(None, key="task")
    splits: tuple[str, ...] | None = setting(None, key="split")
    weight: float | None = setting(None, min=0)
    cap: int | None = setting(None, above=0)
    frames: str = setting("required", choices=FRAMES)
    filters: Filters = Filters()

    def __post_init__(self) -> None:
        if not self.name:
            object.__setattr__(self, "name", self.path)
        for key, names in (("task", self.tasks), ("split", self.splits)):
            if names is not None and not names:
                raise ConfigError("expected a name or a list of names, got []", key)
        known = sorted(t.name for t in schemas.tasks())
        for t in self.tasks or ():
            if t not in known:
                raise ConfigError(f"{t!r} is not a declared task; known: {', '.join(known)}", "task")

    def found(self) -> tuple[str, ...]:
        """The ingestion folders (with samples/ or manifest.json: a table without rows has no files) the
        path names; none when nothing matches."""
        found = sorted(p for p in glob.glob(self.path)
                       if os.path.isdir(os.path.join(p, "samples")) or os.path.isfile(os.path.join(p, "manifest.json")))
        return tuple(os.path.normpath(p) for p in found)

    def folders(self) -> tuple[str, ...]:
        """The ingestion folders the path names; refused when none."""
        found = self.found()
        if not found:
            raise RecipeError(f"source {self.name}: no ingestion folder (with samples/ or manifest.json) matches {self.path}")
        return found


@dataclass(frozen=True)
class Recipe:
    sources: tuple[Source, ...] = setting((), required=True)
    evaluation: tuple[Source, ...] = ()
    name: str = ""
    seed: int = setting(0, min=0)
    think: bool = True
    rows_per_shard: int = setting(256, above=0)
    total: int | None = setting(None, above=0)
    temperature: float | None = setting(None, above=0)
    dedup: bool = True
    leakage: str = setting("refuse", choices=LEAKAGE)
    filters: Filters = Filters()  # for every source; a source's own filters override these by name
    labels: tuple[str, ...] = ()  # label folders (vrft label), joined on sample_id
    unlabeled: str = setting("refuse", choices=UNLABELED)
    difficulty: Difficulty | None = None
    raw: Mapping[str, Any] = dataclasses.field(default_factory=dict, compare=False, init=False)

    def __post_init__(self) -> None:
        names = [s.name for s in self.sources]
        if len(set(names)) != len(names):
            raise ConfigError(f"names must be unique, got {names}", "sources")
        weights = [s.weight is not None for s in self.sources]
        if any(weights) and not all(weights):
            raise ConfigError("give every source a weight, or none", "sources")
        if any(weights) and self.temperature is not None:
            raise ConfigError("temperature and weights are two ways to set the shares: use one")
        if any(weights) and sum(s.weight or 0 for s in self.sources) <= 0:
            raise ConfigError("at least one weight must be above 0", "sources")
        if not self.labels:
            for where, filters in [("filters", self.filters)] + [(f"sources[{i}].filters", s.filters) for i, s in enumerate(self.sources)]:
                used = [name for name, _ in filters.items() if name in LABEL_FILTERS]
                if used:
                    raise ConfigError("is a reward-label filter: add `labels:` (folders made by `vrft label`)",
                                      f"{where}.{used[0]}")
            if self.difficulty is not None:
                raise ConfigError("is drawn by reward labels: add `labels:` (folders made by `vrft label`)", "difficulty")

    @property
    def uses_labels(self) -> bool:
        """Whether any source is filtered or drawn by a reward label."""
        return self.difficulty is not None or any(
            name in LABEL_FILTERS for s in self.sources for name, _ in s.filters.items())

    @property
    def weighted(self) -> bool:
        return self.temperature is not None or any(s.weight is not None for s in self.sources)

    def check_sources(self) -> None:
        """Every source, training and evaluation, names at least one ingestion folder; else one message
        naming all that do not (a user fixing the first would otherwise meet the next one run later)."""
        missing = [f"{s.name} ({s.path})" for s in self.sources if not s.found()]
        missing += [f"{s.name} ({s.path}, evaluation)" for s in self.evaluation if not s.found()]
        if missing:
            raise RecipeError(
                f"no ingestion folder (with samples/ or manifest.json) for {len(missing)} of the recipe's sources: "
                f"{'; '.join(missing)}. Ingest them first (the recipe's header lists the commands), "
                "or pass --root with the folder that holds them"
            )

    def with_frames(self, frames: str) -> "Recipe":
        """The recipe with every training source's `frames:` set to `frames` (required | optional); the
        recipe as given (written to the manifest) says so too."""
        if frames not in FRAMES:
            raise RecipeError(f"frames must be one of {FRAMES}, got {frames!r}")
        out = dataclasses.replace(self, sources=tuple(dataclasses.replace(s, frames=frames) for s in self.sources))
        given = [{**s, "frames": frames} if isinstance(s, Mapping) else s for s in self.raw.get("sources") or []]
        object.__setattr__(out, "raw", {**self.raw, "sources": given})
        return out


def _resolved(source: Source, root: str, shared: Filters) -> Source:
    """The source with its path made absolute against `root` and the shared filters under its own."""
    path = source.path if os.path.isabs(source.path) else os.path.join(root, source.path)
    return dataclasses.replace(source, path=os.path.normpath(path), filters=source.filters.over(shared))


def parse_recipe(raw: Any, root: str, name: str = "recipe") -> Recipe:
    """A checked Recipe from the YAML's data; relative paths start at `root`."""
    if not isinstance(raw, Mapping):
        raise RecipeError("a recipe is a YAML mapping with at least `sources`")
    try:
        recipe = build(Recipe, raw)
    except ConfigError as err:
        raise RecipeError(str(err)) from None
    recipe = dataclasses.replace(
        recipe,
        name=recipe.name or name,
        sources=tuple(_resolved(s, root, recipe.filters) for s in recipe.sources),
        evaluation=tuple(_resolved(s, root, Filters()) for s in recipe.evaluation),
        labels=tuple(os.path.normpath(p if os.path.isabs(p) else os.path.join(root, p)) for p in recipe.labels),
    )
    object.__setattr__(recipe, "raw", dict(raw))
    return recipe


def load_recipe(path: str, root: str | None = None) -> Recipe:
    """Read a recipe file; relative source paths start at `root` (default: the recipe's folder)."""
    try:
        raw = read_yaml(path)
    except ConfigError as err:
        raise RecipeError(str(err)) from None
    base = os.path.splitext(os.path.basename(path))[0]
    return parse_recipe(raw, root if root is not None else os.path.dirname(os.path.abspath(path)), base)
