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
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass, field
from typing import Any, Mapping

import schemas

FILTERS = ("duration", "span_fraction", "query_words")
LEAKAGE = ("refuse", "drop", "allow")
FRAMES = ("required", "optional")
_SOURCE_KEYS = {"name", "path", "task", "split", "weight", "cap", "frames", "filters"}
_TOP_KEYS = {"name", "seed", "think", "rows_per_shard", "total", "temperature", "dedup", "leakage", "filters",
             "sources", "evaluation"}


class RecipeError(ValueError):
    """The recipe cannot be used as written (a user mistake; the message names the key)."""


@dataclass(frozen=True)
class Range:
    min: float | None = None
    max: float | None = None

    def to_dict(self) -> dict[str, float | None]:
        return {"min": self.min, "max": self.max}


@dataclass(frozen=True)
class Source:
    name: str
    path: str                            # an ingestion folder or a glob of them (absolute)
    tasks: tuple[str, ...] | None = None
    splits: tuple[str, ...] | None = None
    weight: float | None = None
    cap: int | None = None
    frames: str = "required"
    filters: Mapping[str, Range] = field(default_factory=dict)

    def folders(self) -> tuple[str, ...]:
        """The ingestion folders the path names; refused when none."""
        found = sorted(p for p in glob.glob(self.path) if os.path.isdir(os.path.join(p, "samples")))
        if not found:
            raise RecipeError(f"source {self.name}: no ingestion folder (with samples/) matches {self.path}")
        return tuple(os.path.normpath(p) for p in found)


@dataclass(frozen=True)
class Recipe:
    name: str
    sources: tuple[Source, ...]
    evaluation: tuple[Source, ...] = ()
    seed: int = 0
    think: bool = True
    rows_per_shard: int = 256
    total: int | None = None
    temperature: float | None = None
    dedup: bool = True
    leakage: str = "refuse"
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @property
    def weighted(self) -> bool:
        return self.temperature is not None or any(s.weight is not None for s in self.sources)


def _names(value: Any, what: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(x, str) for x in items):
        raise RecipeError(f"{what}: expected a name or a list of names, got {value!r}")
    return tuple(items)


def _number(value: Any, what: str, positive: bool = False, integer: bool = False) -> Any:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not ok or (integer and int(value) != value) or value < 0 or (positive and value == 0):
        kind = "integer" if integer else "number"
        raise RecipeError(f"{what}: expected a {'positive' if positive else 'non-negative'} {kind}, got {value!r}")
    return int(value) if integer else float(value)


def _filters(raw: Any, what: str) -> dict[str, Range]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise RecipeError(f"{what}: expected a mapping of filter -> {{min, max}}")
    out = {}
    for name, rng in raw.items():
        if name not in FILTERS:
            raise RecipeError(f"{what}.{name}: unknown filter; known: {', '.join(FILTERS)}")
        if not isinstance(rng, Mapping) or not set(rng) <= {"min", "max"} or not rng:
            raise RecipeError(f"{what}.{name}: expected {{min: X, max: Y}} (either may be left out)")
        low, high = (None if rng.get(k) is None else _number(rng[k], f"{what}.{name}.{k}") for k in ("min", "max"))
        if low is not None and high is not None and low > high:
            raise RecipeError(f"{what}.{name}: min {low} > max {high}")
        out[name] = Range(low, high)
    return out


def _path(path: Any, root: str, what: str) -> str:
    if not isinstance(path, str) or not path:
        raise RecipeError(f"{what}.path: expected a folder or a glob")
    return os.path.normpath(path if os.path.isabs(path) else os.path.join(root, path))


def _source(raw: Any, root: str, what: str, shared: Mapping[str, Range]) -> Source:
    if not isinstance(raw, Mapping):
        raise RecipeError(f"{what}: expected a mapping with at least `path`")
    unknown = set(raw) - _SOURCE_KEYS
    if unknown:
        raise RecipeError(f"{what}: unknown key(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(_SOURCE_KEYS))}")
    tasks = _names(raw.get("task"), f"{what}.task")
    known = {t.name for t in schemas.tasks()}
    for t in tasks or ():
        if t not in known:
            raise RecipeError(f"{what}.task: {t!r} is not a declared task; known: {', '.join(sorted(known))}")
    frames = raw.get("frames", "required")
    if frames not in FRAMES:
        raise RecipeError(f"{what}.frames: expected one of {', '.join(FRAMES)}, got {frames!r}")
    return Source(
        name=str(raw.get("name") or raw.get("path")),
        path=_path(raw.get("path"), root, what),
        tasks=tasks,
        splits=_names(raw.get("split"), f"{what}.split"),
        weight=None if raw.get("weight") is None else _number(raw["weight"], f"{what}.weight"),
        cap=None if raw.get("cap") is None else _number(raw["cap"], f"{what}.cap", positive=True, integer=True),
        frames=frames,
        filters={**shared, **_filters(raw.get("filters"), f"{what}.filters")},
    )


def parse_recipe(raw: Any, root: str, name: str = "recipe") -> Recipe:
    """A checked Recipe from the YAML's data; relative paths start at `root`."""
    if not isinstance(raw, Mapping):
        raise RecipeError("a recipe is a YAML mapping with at least `sources`")
    unknown = set(raw) - _TOP_KEYS
    if unknown:
        raise RecipeError(f"unknown key(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(_TOP_KEYS))}")
    shared = _filters(raw.get("filters"), "filters")
    sources_raw = raw.get("sources")
    if not isinstance(sources_raw, list) or not sources_raw:
        raise RecipeError("sources: expected a non-empty list")
    sources = tuple(_source(s, root, f"sources[{i}]", shared) for i, s in enumerate(sources_raw))
    evaluation = tuple(_source(s, root, f"evaluation[{i}]", {}) for i, s in enumerate(raw.get("evaluation") or []))
    names = [s.name for s in sources]
    if len(set(names)) != len(names):
        raise RecipeError(f"sources: names must be unique, got {names}")
    weights = [s.weight is not None for s in sources]
    if any(weights) and not all(weights):
        raise RecipeError("sources: give every source a weight, or none")
    if any(weights) and raw.get("temperature") is not None:
        raise RecipeError("temperature and weights are two ways to set the shares: use one")
    if any(weights) and sum(s.weight or 0 for s in sources) <= 0:
        raise RecipeError("sources: at least one weight must be above 0")
    leakage = raw.get("leakage", "refuse")
    if leakage not in LEAKAGE:
        raise RecipeError(f"leakage: expected one of {', '.join(LEAKAGE)}, got {leakage!r}")
    for key in ("think", "dedup"):
        if not isinstance(raw.get(key, True), bool):
            raise RecipeError(f"{key}: expected true or false")
    total, temp = raw.get("total"), raw.get("temperature")
    return Recipe(
        name=str(raw.get("name") or name),
        sources=sources,
        evaluation=evaluation,
        seed=_number(raw.get("seed", 0), "seed", integer=True),
        think=raw.get("think", True),
        rows_per_shard=_number(raw.get("rows_per_shard", 256), "rows_per_shard", positive=True, integer=True),
        total=None if total is None else _number(total, "total", positive=True, integer=True),
        temperature=None if temp is None else _number(temp, "temperature", positive=True),
        dedup=raw.get("dedup", True),
        leakage=leakage,
        raw=dict(raw),
    )


def load_recipe(path: str, root: str | None = None) -> Recipe:
    """Read a recipe file; relative source paths start at `root` (default: the recipe's folder)."""
    import yaml

    try:
        with open(path) as f:
            raw = yaml.safe_load(f)
    except OSError as err:
        raise RecipeError(f"cannot read {path}: {err.strerror}") from None
    except yaml.YAMLError as err:
        raise RecipeError(f"{path} is not valid YAML: {err}") from None
    base = os.path.splitext(os.path.basename(path))[0]
    return parse_recipe(raw, root if root is not None else os.path.dirname(os.path.abspath(path)), base)
