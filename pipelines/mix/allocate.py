"""How many rows each source gives: pure arithmetic on source sizes, weights and a temperature.

Shares: by size (plain concatenation), by weight (w_i / sum w), or by temperature (n_i ** (1/T),
normalised: T = 1 is by size, large T tends to uniform). Counts: `total` split by the largest
remainder method, so the realised shares are the requested ones up to one row per source; without
`total`, weighted mixtures take the largest size at which no source repeats a row.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np


def shares(sizes: Sequence[int], weights: Sequence[float] | None = None, temperature: float | None = None) -> list[float]:
    if weights is not None:
        raw = [float(w) for w in weights]
    elif temperature is not None:
        raw = [n ** (1.0 / temperature) if n > 0 else 0.0 for n in sizes]
    else:
        raw = [float(n) for n in sizes]
    total = sum(raw)
    return [r / total if total > 0 else 0.0 for r in raw]


def largest_remainder(total: int, shares: Sequence[float]) -> list[int]:
    """Integers summing to `total`, each within one of total * share (ties go to the earlier source)."""
    exact = [total * s for s in shares]
    counts = [math.floor(x) for x in exact]
    order = sorted(range(len(shares)), key=lambda i: (-(exact[i] - counts[i]), i))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


def counts(sizes: Sequence[int], shares_: Sequence[float], total: int | None, proportional: bool) -> list[int]:
    """Rows per source. `proportional` (no weights asked) with no total: every row once."""
    if total is None and proportional:
        return list(sizes)
    if total is None:
        # the largest N with N * share_i <= size_i for every source that has a share
        total = min((math.floor(n / s + 1e-9) for n, s in zip(sizes, shares_) if s > 0), default=0)
    return largest_remainder(total, shares_)


def draw(size: int, k: int, rng: np.random.Generator, weights: np.ndarray | None = None) -> np.ndarray:
    """k row indices from range(size): without repeats while k <= size, then whole copies plus a draw.
    With `weights` (one > 0 per row), row i is expected k * w_i / sum(w) times: the whole part of that
    in copies, the rest drawn without repeats in proportion to the fractions left."""
    if size == 0 or k == 0:
        return np.zeros(0, dtype=np.int64)
    if weights is not None:
        exact = k * np.asarray(weights, dtype=float) / float(np.sum(weights))
        copies = np.floor(exact + 1e-9).astype(np.int64)
        rest = k - int(copies.sum())
        left = np.clip(exact - copies, 0, None)
        extra = rng.choice(size, rest, replace=False, p=left / left.sum()) if rest > 0 else np.zeros(0, np.int64)
        return np.sort(np.concatenate([np.repeat(np.arange(size), copies), extra])).astype(np.int64)
    copies, rest = divmod(k, size)
    picked = [np.tile(np.arange(size), copies), rng.choice(size, rest, replace=False)]
    return np.sort(np.concatenate(picked)).astype(np.int64)
