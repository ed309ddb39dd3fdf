"""What a person watching `vrft train` sees (issue 13 #3): a line before the model loads, the phase running
now and an ETA from the first step on, and a warning when every group has had zero reward spread for
`run.warn_zero_spread_steps` steps in a row."""

from __future__ import annotations

import io
import re
from types import SimpleNamespace

import pytest
from rich.console import Console

import train.progress
import train.trainer
from schemas.config import ConfigError
from tests.train.conftest import TINY_CONFIG, e_share
from train.config import load_config
from train.metrics import ZeroSpreadWatch
from train.pace import clock, left_at_mean_pace
from train.progress import StepProgress
from train.trainer import run_training

WARNING = "steps in a row with zero reward spread"
PHASES = ["data", "normalize", "rollout", "score", "advantages", "reference", "loss+backward", "optimizer step"]


def constant(task, completions, truths, profile="default", weights=None):
    """A scripted reward that scores every completion alike: every group has zero spread."""
    return SimpleNamespace(total=[0.5] * len(completions), components={"constant": [0.5] * len(completions)})


# ---- the zero-spread warning -------------------------------------------------------------------------


def test_the_watch_warns_once_a_streak_reaches_n():
    flat, mixed = {"zero_spread_groups": 1.0, "truncated_share": 1.0}, {"zero_spread_groups": 0.5}
    watch = ZeroSpreadWatch(2, group_size=4, max_new_tokens=8)
    said = [watch.update(m) for m in (flat, flat, flat, mixed, flat, mixed, flat, flat)]
    assert [i for i, s in enumerate(said) if s] == [1, 7]   # steps 2 and 8 complete a streak of 2; 3 extends one
    assert "all 4 completions scored alike" in said[1] and "100%" in said[1] and "max_new_tokens (8)" in said[1]
    assert all(word in said[1] for word in ("warm start", "temperature", "run.warn_zero_spread_steps"))
    off = ZeroSpreadWatch(0, group_size=4, max_new_tokens=8)
    assert not any(off.update(flat) for _ in range(10))


def test_the_config_key_is_checked():
    assert load_config(TINY_CONFIG).run.warn_zero_spread_steps == 5
    with pytest.raises(ConfigError, match="warn_zero_spread_steps"):
        load_config(TINY_CONFIG, ["run.warn_zero_spread_steps=-1"])


def test_the_trainer_warns_on_flat_rewards_and_not_on_a_varied_one(tiny_config, capsys):
    flat = run_training(tiny_config("run.steps=3", "run.warn_zero_spread_steps=2", "loss.beta=0"), score_fn=constant)
    out = capsys.readouterr().out
    assert [h["zero_spread_groups"] for h in flat["history"]] == [1.0, 1.0, 1.0]
    assert out.count(WARNING) == 1 and "warning: 2 steps in a row" in out
    varied = run_training(tiny_config("run.steps=3", "run.warn_zero_spread_steps=2", "loss.beta=0"), score_fn=e_share)
    assert all(h["zero_spread_groups"] < 1.0 for h in varied["history"])
    assert WARNING not in capsys.readouterr().out


# ---- the progress line -------------------------------------------------------------------------------


def test_what_is_left_at_the_mean_pace_and_the_clock():
    assert left_at_mean_pace(spent=10.0, done=2, remaining=8) == 40.0   # 5 a unit, 8 units left
    assert left_at_mean_pace(spent=3.0, done=0, remaining=8) is None     # no pace before one is done
    assert clock(3725) == "1:02:05" and clock(None) == "?"


def test_a_log_gets_one_line_per_step_with_pace_slowest_phase_and_eta():
    buf = io.StringIO()
    p = StepProgress(total=4, start=0, console=Console(file=buf))   # not a terminal
    p.phase("data")
    p.step(1, {"reward/mean": 0.25, "time/rollout": 2.5, "time/score": 0.1})
    (line,) = buf.getvalue().splitlines()
    assert re.fullmatch(r"step 1/4 · reward 0\.250 · \d+\.\d s/step \(slowest: rollout 2\.5 s\) · eta \d:\d\d:\d\d", line)


def test_the_bar_names_each_phase_and_shows_an_eta_from_the_first_step(tiny_config, monkeypatch, capsys):
    buf = io.StringIO()
    monkeypatch.setattr(train.progress, "default_console",
                        lambda: Console(file=buf, force_terminal=True, width=200, color_system=None))
    seen_before_loading = []
    real_load = train.trainer.load_processor

    def load_processor(path):
        seen_before_loading.append(capsys.readouterr().out)
        return real_load(path)

    monkeypatch.setattr(train.trainer, "load_processor", load_processor)
    run_training(tiny_config("run.steps=2", "run.progress=true"), score_fn=e_share)
    assert "loading the model from" in seen_before_loading[0]   # said before the model loads
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", buf.getvalue())                      # terminal codes out
    frames = [f.strip() for f in re.split(r"[\r\n]", plain) if f.strip().startswith("train")]
    first_step = [f for f in frames if " 0/2 " in f]
    shown = [name for f in first_step for name in PHASES if re.search(rf" 0/2 {re.escape(name)} ", f)]
    assert [p for i, p in enumerate(shown) if i == 0 or shown[i - 1] != p] == PHASES   # every phase, in order
    assert all(f.endswith("eta ?") for f in first_step)                           # no estimate before a step ends
    assert any(re.search(r" 1/2 .*eta \d:\d\d:\d\d$", f) for f in frames)          # one after the first
