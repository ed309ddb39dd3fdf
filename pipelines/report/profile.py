"""A dataset's numbers in bounded memory: exact counters plus fixed-size uniform samples of rows.

The report's plots and the distribution checks read the same profile. Each group of numbers (spans,
boxes, answers, videos) keeps at most `cap` rows chosen uniformly at random over the whole dataset
(each row gets a random key; the `cap` smallest keys are kept), so its size does not grow with the
dataset, and the choice is reproducible (fixed seed).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
import pandas as pd

CAP = 50_000


@dataclass
class Reservoir:
    cap: int = CAP
    rows: int = 0                                   # rows offered in all
    frame: pd.DataFrame | None = None
    keys: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def add(self, frame: pd.DataFrame, rng: np.random.Generator) -> None:
        if frame.empty:
            return
        self.rows += len(frame)
        keys = np.concatenate([self.keys, rng.random(len(frame))])
        both = frame.reset_index(drop=True) if self.frame is None else pd.concat([self.frame, frame], ignore_index=True)
        if len(both) > self.cap:
            keep = np.sort(np.argpartition(keys, self.cap)[: self.cap])
            both, keys = both.iloc[keep].reset_index(drop=True), keys[keep]
        self.frame, self.keys = both, keys


@dataclass
class DatasetProfile:
    """What validation learned of a dataset as it went: exact counts, and uniform samples of rows."""

    counts: dict[str, Counter] = field(default_factory=dict)     # e.g. "task" -> Counter
    groups: dict[str, Reservoir] = field(default_factory=dict)   # e.g. "intervals" -> sample of rows
    rng: np.random.Generator = field(default_factory=lambda: np.random.default_rng(0))

    def count(self, name: str, values) -> None:
        self.counts.setdefault(name, Counter()).update(values)

    def add(self, groups: Mapping[str, pd.DataFrame]) -> None:
        for name, frame in groups.items():
            self.groups.setdefault(name, Reservoir()).add(frame, self.rng)

    def group(self, name: str) -> pd.DataFrame:
        r = self.groups.get(name)
        return r.frame if r is not None and r.frame is not None else pd.DataFrame()
