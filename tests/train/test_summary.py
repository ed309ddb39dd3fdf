"""The end-of-run summary says whether the reward rose, with numbers computed from the logged steps."""

from __future__ import annotations

import pytest

from train.summary import describe, reward_trend


def steps(rewards, zero=0.0, truncated=0.0):
    return [{"reward/mean": r, "zero_spread_groups": zero, "truncated_share": truncated} for r in rewards]


def test_a_clear_rise_is_called_a_rise_with_its_numbers():
    trend = reward_trend(steps([1.0, 1.2, 1.1, 1.5, 1.7, 1.6]), window=3)
    # by hand: means 1.1 and 1.6, sample variances 0.01 each -> 2 * sqrt(0.01/3 + 0.01/3) = 0.1633
    assert (trend.first, trend.last) == pytest.approx((1.1, 1.6))
    assert trend.noise == pytest.approx(0.16330, abs=1e-5) and trend.verdict == "rose"
    assert describe(trend) == ["mean reward rose: 1.1000 (steps 1-3) -> 1.6000 (steps 4-6), change +0.5000, "
                               "noise +-0.1633 (2 standard errors)"]


def test_a_change_inside_the_noise_is_not_called_learning():
    short = reward_trend(steps([1.0, 1.4, 1.3]))              # one step per window: no spread to measure
    assert short.window == 1 and short.verdict == "too short"
    assert describe(short)[0] == ("mean reward cannot be told from noise in so few steps: 1.0000 (step 1) -> "
                                  "1.3000 (step 3), change +0.3000")
    flat = reward_trend(steps([1.0, 1.4, 1.2, 1.3]))          # default window: 2 of 4 steps
    # means 1.2 and 1.25, variances 0.08 and 0.005 -> noise 2 * sqrt(0.04 + 0.0025) = 0.4123
    assert flat.noise == pytest.approx(0.41231, abs=1e-5) and flat.verdict == "flat"
    assert "did not change beyond the step-to-step noise" in describe(flat)[0]
    assert reward_trend(steps([0.5, 0.6, 0.1, 0.1])).verdict == "fell"   # -0.45 against a noise of 0.1


def test_zero_spread_runs_get_a_warning_naming_the_cause():
    lines = describe(reward_trend(steps([0.0] * 4, zero=1.0, truncated=1.0)))
    assert lines[0].startswith("mean reward did not change")
    assert "in 4 of 4 steps every group's completions scored alike" in lines[1]
    assert "100% of completions hit rollout.max_new_tokens" in lines[1]
    assert describe(reward_trend(steps([0.1]))) == ["reward trend: fewer than 2 steps, nothing to compare"]
