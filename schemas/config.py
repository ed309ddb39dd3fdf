"""One config mechanism: typed dataclasses built from a mapping (a YAML file, `key=value` overrides).

    @dataclass
    class Optim:
        lr: float = setting(1e-6, above=0)
        schedule: str = setting("linear", choices=("constant", "linear", "cosine"))

    cfg = load(Optim, "optim.yaml", ["lr=3e-4"])

The dataclass is the schema: its field names are the keys (or `setting(key=...)` when the file says it
otherwise), its type hints the types (bool, int, float, str, lists, tuples, dicts, `X | None`, nested
dataclasses), and `setting` metadata the allowed values. Everything wrong is refused at load with the
key path: unknown keys, wrong types, values out of range, missing required values, and whatever a
dataclass's own `__post_init__` refuses (raise `ConfigError(message, key=field)` there). Used by the
training config, the mixing recipes and the validation thresholds; imports nothing else of vrft's.
"""

from __future__ import annotations

import collections.abc
import copy
import dataclasses
import math
import types
import typing
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence, TypeVar

import yaml

from schemas.errors import UserError

T = TypeVar("T")
Choices = Sequence[Any] | Callable[[], Iterable[Any]]


class ConfigError(UserError, ValueError):
    """A config that cannot be used as written: one line naming the key (a user mistake)."""

    def __init__(self, message: str, key: str = "") -> None:
        self.message, self.key = message, key
        # "x must be >= 2" reads as a sentence; other messages follow "x: "
        sentence = message.startswith(("must ", "is "))
        super().__init__(message if not key else f"{key} {message}" if sentence else f"{key}: {message}")

    def under(self, path: str) -> "ConfigError":
        """The same error seen from the section at `path`."""
        return ConfigError(self.message, _join(path, self.key)) if path else self


def setting(
    default: Any = dataclasses.MISSING,
    *,
    min: float | None = None,
    max: float | None = None,
    above: float | None = None,
    below: float | None = None,
    choices: Choices | None = None,
    required: bool = False,
    key: str | None = None,
    why: str = "",
) -> Any:
    """A dataclass field with the checks the loader applies: `min` <= value <= `max`, value > `above`,
    value < `below` (for a list, every item), value in `choices` (a sequence, or a function giving the
    names known now), `required` (must be given, not empty), `key` (the name in the file when it differs
    from the field's), `why` (added to a refusal). Every float must be finite (no inf, no nan)."""
    meta = {"min": min, "max": max, "above": above, "below": below, "choices": choices, "required": required,
            "key": key, "why": why}
    if isinstance(default, (list, dict, set)) or dataclasses.is_dataclass(default):
        return dataclasses.field(default_factory=lambda: copy.deepcopy(default), metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def build(cls: type[T], raw: Any, path: str = "") -> T:
    """An instance of the dataclass `cls` from `raw`, every key and value checked (see the module doc)."""
    if not isinstance(raw, Mapping):
        raise ConfigError(f"expected a mapping, got {type(raw).__name__}", path)
    hints = typing.get_type_hints(cls)
    fields = {(f.metadata.get("key") or f.name): f for f in dataclasses.fields(cls) if f.init}
    unknown = [k for k in raw if k not in fields]
    if unknown:
        item = getattr(cls, "config_item", "key")
        raise ConfigError(f"unknown {item} {_join(path, str(unknown[0]))!r}; known: {', '.join(sorted(fields))}")
    kwargs = {}
    for name, f in fields.items():
        where = _join(path, name)
        if f.metadata.get("required") and raw.get(name) in (None, "", [], (), {}):
            raise ConfigError("is required", where)
        if name in raw:
            kwargs[f.name] = coerce(raw[name], hints[f.name], where, f.metadata)
        elif dataclasses.is_dataclass(hints[f.name]):  # a missing section: its own defaults, its own checks
            kwargs[f.name] = build(hints[f.name], {}, where)
    try:
        return cls(**kwargs)
    except ConfigError as err:
        raise err.under(path) from None


def coerce(value: Any, typ: Any, where: str, meta: Mapping[str, Any] | None = None) -> Any:
    """`value` as the type `typ` (ints where floats are wanted, a name where a list of names is), checked
    against the metadata of its field."""
    out = _typed(value, typ, where)
    if meta and out is not None:
        _check_value(out, where, meta)
    return out


def check(value: Any, typ: Any, where: str, **limits: Any) -> Any:
    """`value` as `typ` within `limits` (those of `setting`), for values that do not come from a config
    file: command-line options, say."""
    return coerce(value, typ, where, setting(**limits).metadata)


def _typed(value: Any, typ: Any, where: str) -> Any:
    origin, args = typing.get_origin(typ), typing.get_args(typ)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        options = [a for a in args if a is not type(None)]
        for option in options[:-1]:
            try:
                return _typed(value, option, where)
            except ConfigError:
                pass
        return _typed(value, options[-1], where)
    if dataclasses.is_dataclass(typ):
        return build(typ, value, where)
    if origin in (list, tuple) or typ in (list, tuple):
        if isinstance(value, str):  # a single name where a list of names is wanted
            value = [value]
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"expected a list, got {value!r}", where)
        fixed = (origin or typ) is tuple and bool(args) and args[-1] is not Ellipsis  # tuple[float, float]
        if fixed and len(value) != len(args):
            raise ConfigError(f"expected a list of {len(args)} items, got {value!r}", where)
        items = [_typed(v, args[i] if fixed else args[0] if args else Any, f"{where}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if (origin or typ) is tuple else items
    if origin in (dict, collections.abc.Mapping) or typ is dict:
        if not isinstance(value, Mapping):
            raise ConfigError(f"expected a mapping, got {value!r}", where)
        item = args[1] if len(args) == 2 else Any
        return {str(k): _typed(v, item, _join(where, str(k))) for k, v in value.items()}
    if typ is bool:
        if isinstance(value, bool):
            return value
    elif typ is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
    elif typ is float:
        if isinstance(value, str):  # YAML 1.1 reads "1e-6" (no dot) as a string
            try:
                value = float(value)
            except ValueError:
                pass
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if not math.isfinite(value):
                raise ConfigError(f"must be a finite number, got {value!r}", where)
            return float(value)
    elif typ is str:
        if isinstance(value, str):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):  # a name YAML read as a number
            return str(value)
    else:
        return value
    raise ConfigError(f"expected {typ.__name__}, got {value!r}", where)


def _check_value(value: Any, where: str, meta: Mapping[str, Any]) -> None:
    why = f" ({meta['why']})" if meta.get("why") else ""
    choices = meta.get("choices")
    if choices is not None:
        known = list(choices() if callable(choices) else choices)
        values = value if isinstance(value, (list, tuple)) else [value]
        for v in values:
            if v not in known:
                raise ConfigError(f"must be one of {known}, got {v!r}{why}", where)
    low, high, above, below = meta.get("min"), meta.get("max"), meta.get("above"), meta.get("below")
    values = value if isinstance(value, (list, tuple)) else [value]
    for v in values:
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            under = (low is not None and v < low) or (above is not None and v <= above)
            over = (high is not None and v > high) or (below is not None and v >= below)
            if under or over:
                got = f"{v!r} in {value!r}" if v is not value else repr(v)
                raise ConfigError(f"must be {_bounds(low, high, above, below)}, got {got}{why}", where)


def _bounds(low: float | None, high: float | None, above: float | None, below: float | None = None) -> str:
    """The allowed values in words: "positive", ">= 1", "in [0, 1)"."""
    if high is None and below is None:
        if above == 0 and low is None:
            return "positive"
        if low == 0 and above is None:
            return "non-negative"
        return f"> {above}" if above is not None else f">= {low}"
    end = f"{high}]" if below is None else f"{below})"
    if low is None and above is None:
        return f"<= {high}" if below is None else f"< {below}"
    return f"in ({above}, {end}" if above is not None else f"in [{low}, {end}"


def _join(path: str, key: str) -> str:
    if not path:
        return key
    return f"{path}{key}" if key.startswith("[") or not key else f"{path}.{key}"


# ---- files and overrides -----------------------------------------------------------------------------


def read_yaml(path: str | Path) -> Any:
    """The data of a YAML file; a missing file or bad YAML is one line naming the file (and the position)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except OSError as err:
        raise ConfigError(f"cannot read {path}: {err.strerror}") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(path)
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise ConfigError(f"{where}: not valid YAML: {problem}") from None


def apply_override(raw: dict[str, Any], item: str) -> None:
    """Apply one `a.b.c=value` override to the raw mapping; the value is read as YAML."""
    key, sep, text = item.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"override {item!r} is not key=value")
    parts = key.strip().split(".")
    node = raw
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ConfigError(f"override {item!r}: {part!r} is not a section")
    try:
        node[parts[-1]] = yaml.safe_load(text)
    except yaml.YAMLError:
        raise ConfigError(f"override {item!r}: the value is not valid YAML") from None


def load(cls: type[T], path: str | Path | None = None, overrides: Iterable[str] = (), raw: Any = None) -> T:
    """`cls` from a YAML file (or `raw` data), with `key=value` overrides applied on top."""
    data = read_yaml(path) if path is not None else raw
    data = {} if data is None else data
    if overrides:
        if not isinstance(data, dict):
            raise ConfigError(f"expected a mapping, got {type(data).__name__}")
        data = copy.deepcopy(data)
        for item in overrides:
            apply_override(data, item)
    return build(cls, data)
