"""The one config loader (schemas.config): typed dataclasses from a mapping, every mistake named by its key path."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import pytest

from schemas.config import ConfigError, build, check, load, setting


@dataclass(frozen=True)
class Window:
    config_item: ClassVar[str] = "window"
    low: float | None = setting(None, min=0)
    high: float | None = None

    def __post_init__(self) -> None:
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ConfigError(f"low {self.low} > high {self.high}", "low")


@dataclass(frozen=True)
class Part:
    path: str = setting("", required=True)
    names: tuple[str, ...] | None = setting(None, key="name")
    size: int = setting(1, above=0)


@dataclass(frozen=True)
class Top:
    rate: float = setting(0.5, min=0, max=1)
    mode: str = setting("a", choices=("a", "b"))
    kind: str = setting("x", choices=lambda: ["x", "y"])
    steps: int = setting(2, min=2, why="two make a pair")
    on: bool = True
    parts: tuple[Part, ...] = ()
    window: Window = Window()
    weights: dict[str, dict[str, float]] = setting({})
    pair: tuple[float, float] = setting((0.5, 0.5), min=0, below=1)


def test_values_are_typed_and_defaults_fill_the_rest():
    top = build(Top, {"rate": 1, "steps": 4.0, "parts": [{"path": "p", "name": "one"}], "window": {"low": "1e-3"},
                      "weights": {"t": {"c": 2}}})
    assert top.rate == 1.0 and isinstance(top.rate, float)
    assert top.steps == 4 and isinstance(top.steps, int)
    assert top.parts == (Part(path="p", names=("one",), size=1),)       # one name where a list is wanted; file key `name`
    assert top.window == Window(low=0.001, high=None)                   # YAML 1.1 leaves "1e-3" a string
    assert top.weights == {"t": {"c": 2.0}} and top.mode == "a" and top.on is True
    assert build(Top, {}) == Top()


@pytest.mark.parametrize("raw, message", [
    ({"rat": 1}, "unknown key 'rat'; known: kind, mode, on, pair, parts, rate, steps, weights, window"),
    ({"parts": [{"path": "p", "colour": 1}]}, "unknown key 'parts[0].colour'; known: name, path, size"),
    ({"window": {"wide": 1}}, "unknown window 'window.wide'; known: high, low"),
    ({"rate": "high"}, "rate: expected float, got 'high'"),
    ({"on": "yes"}, "on: expected bool, got 'yes'"),
    ({"steps": 2.5}, "steps: expected int, got 2.5"),
    ({"rate": 1.5}, "rate must be in [0, 1], got 1.5"),
    ({"steps": 1}, "steps must be >= 2, got 1 (two make a pair)"),
    ({"parts": [{"path": "p", "size": 0}]}, "parts[0].size must be positive, got 0"),
    ({"window": {"low": -1}}, "window.low must be non-negative, got -1.0"),
    ({"mode": "c"}, "mode must be one of ['a', 'b'], got 'c'"),
    ({"kind": "z"}, "kind must be one of ['x', 'y'], got 'z'"),
    ({"parts": [{"name": "n"}]}, "parts[0].path is required"),
    ({"parts": [{"path": ""}]}, "parts[0].path is required"),
    ({"window": {"low": 3, "high": 1}}, "window.low: low 3.0 > high 1.0"),           # a dataclass's own check, placed
    ({"weights": {"t": {"c": "x"}}}, "weights.t.c: expected float, got 'x'"),
    ({"parts": {"path": "p"}}, "parts: expected a list, got {'path': 'p'}"),
    ({"rate": float("inf")}, "rate must be a finite number, got inf"),
    ({"rate": "nan"}, "rate must be a finite number, got nan"),
    ({"weights": {"t": {"c": float("-inf")}}}, "weights.t.c must be a finite number, got -inf"),
    ({"window": {"low": float("nan")}}, "window.low must be a finite number, got nan"),
    ({"pair": [0.5]}, "pair: expected a list of 2 items, got [0.5]"),
    ({"pair": [0.5, 0.5, 0.5]}, "pair: expected a list of 2 items, got [0.5, 0.5, 0.5]"),
    ({"pair": [0.5, 1]}, "pair must be in [0, 1), got 1.0 in (0.5, 1.0)"),
    ({"pair": ["a", 0.5]}, "pair[0]: expected float, got 'a'"),
    ([1], "expected a mapping, got list"),
])
def test_every_mistake_names_its_key(raw, message):
    with pytest.raises(ConfigError) as err:
        build(Top, raw)
    assert str(err.value) == message


def test_fixed_length_tuples_and_values_from_elsewhere():
    assert build(Top, {"pair": [0, 0.999]}).pair == (0.0, 0.999)
    assert check(3, int, "--n", min=1) == 3
    with pytest.raises(ConfigError, match=r"^--n must be >= 1, got 0$"):
        check(0, int, "--n", min=1)
    with pytest.raises(ConfigError, match=r"^--s must be positive, got 0.0$"):
        check(0.0, float, "--s", above=0)
    with pytest.raises(ConfigError, match=r"^--s must be < 2, got 2.0$"):
        check(2.0, float, "--s", below=2)


def test_files_and_overrides(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("rate: 0.25\nwindow:\n  low: 1\n")
    top = load(Top, path, ["window.high=2", "parts=[{path: q}]", "mode=b"])
    assert (top.rate, top.window, top.mode) == (0.25, Window(1.0, 2.0), "b")
    assert top.parts == (Part(path="q"),)
    assert load(Top, raw={"rate": 0.1}, overrides=["rate=0.2"]).rate == 0.2
    with pytest.raises(ConfigError, match="^override 'rate' is not key=value$"):
        load(Top, path, ["rate"])
    with pytest.raises(ConfigError, match="^override 'rate.x=1': 'rate' is not a section$"):
        load(Top, path, ["rate.x=1"])
    with pytest.raises(ConfigError, match="config file not found"):
        load(Top, tmp_path / "nope.yaml")


def test_bad_yaml_is_one_line_with_its_position(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("rate: 0.25\nwindow:\n  low: 1\n high: 2\n")   # line 4 is indented by one space
    with pytest.raises(ConfigError) as err:
        load(Top, path)
    text = str(err.value)
    assert "\n" not in text and text.startswith(f"{path}:4:2: not valid YAML: ")
