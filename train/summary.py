"""Did the run learn? The mean reward of the first steps against the last, said with the numbers.

A run can finish without error and learn nothing: completions cut at max_new_tokens or never
parseable all score alike, every group has zero reward spread, the advantages and the gradient are
zero, and the last line still prints a reward. This reads the logged steps and says which it was.
"Rose" needs the difference of the two windows' means to exceed twice its standard error (from the
step-to-step spread inside each window), so a noisy flat run is not called learning.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Sequence


@dataclass(frozen=True)
class RewardTrend:
    steps: int
    window: int                 # steps in each window
    first: float                # mean reward of the first `window` steps
    last: float                 # ... of the last `window` steps
    noise: float                # 2 standard errors of last - first
    zero_spread_steps: int      # steps in which every group had one reward for all its completions
    truncated: float            # mean share of completions cut at max_new_tokens

    @property
    def change(self) -> float:
        return self.last - self.first

    @property
    def verdict(self) -> str:
        """'rose' | 'fell' | 'flat' (within the noise) | 'too short' (one step per window: no noise estimate)."""
        if math.isnan(self.noise):
            return "too short"
        if self.change > self.noise:
            return "rose"
        if self.change < -self.noise:
            return "fell"
        return "flat"


def _mean_var(xs: Sequence[float]) -> tuple[float, float]:
    m = sum(xs) / len(xs)
    return m, (sum((x - m) ** 2 for x in xs) / (len(xs) - 1) if len(xs) > 1 else 0.0)


def reward_trend(history: Sequence[Mapping[str, float]], window: int = 0) -> RewardTrend | None:
    """From the per-step metrics (`reward/mean`, `zero_spread_groups`, `truncated_share`); windows of
    `window` steps (default a quarter of the run, at least 2 when the run has 4 steps). None for fewer
    than 2 steps."""
    rewards = [h["reward/mean"] for h in history]
    if len(rewards) < 2:
        return None
    w = min(window or max(2, len(rewards) // 4), len(rewards) // 2)
    (m1, v1), (m2, v2) = _mean_var(rewards[:w]), _mean_var(rewards[-w:])
    return RewardTrend(
        steps=len(rewards), window=w, first=m1, last=m2, noise=2 * math.sqrt(v1 / w + v2 / w) if w > 1 else math.nan,
        zero_spread_steps=sum(1 for h in history if h.get("zero_spread_groups", 0.0) >= 1.0),
        truncated=sum(h.get("truncated_share", 0.0) for h in history) / len(history),
    )


def describe(trend: RewardTrend | None) -> list[str]:
    """Lines for the end of a run: the trend with its numbers, and a warning when nothing could train."""
    if trend is None:
        return ["reward trend: fewer than 2 steps, nothing to compare"]
    w = trend.window
    first, last = (f"steps 1-{w}", f"steps {trend.steps - w + 1}-{trend.steps}") if w > 1 else \
        ("step 1", f"step {trend.steps}")
    words = {"rose": "rose", "fell": "fell", "flat": "did not change beyond the step-to-step noise",
             "too short": "cannot be told from noise in so few steps"}[trend.verdict]
    noise = "" if math.isnan(trend.noise) else f", noise +-{trend.noise:.4f} (2 standard errors)"
    lines = [f"mean reward {words}: {trend.first:.4f} ({first}) -> {trend.last:.4f} ({last}), "
             f"change {trend.change:+.4f}{noise}"]
    if trend.zero_spread_steps:
        lines.append(
            f"warning: in {trend.zero_spread_steps} of {trend.steps} steps every group's completions scored alike "
            f"(zero spread: no advantage, no gradient); {trend.truncated:.0%} of completions hit "
            "rollout.max_new_tokens. Raise it to fit the answer contract, or warm-start a model that writes "
            "parseable answers (see `vrft demo`)."
        )
    return lines
