"""The thresholds of validation's whole-dataset checks (`vrft validate --set NAME=VALUE`).

Kept apart from the checks so that the command line can list the names and defaults in its help
without loading pandas.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar, Mapping

from schemas.config import load, setting


@dataclass(frozen=True)
class Thresholds:
    config_item: ClassVar[str] = "threshold"
    # of written rows, by the repair policy (Charades-STA: ~15% clipped)
    max_repaired_share: float = setting(0.25, min=0, max=1)
    max_rejected_share: float = setting(0.25, min=0, max=1)       # of input records
    min_span_fraction_median: float = setting(0.01, min=0, max=1)  # median interval length / video duration
    max_span_fraction_median: float = setting(0.9, min=0, max=1)
    max_whole_video_share: float = setting(0.5, min=0, max=1)     # intervals covering >= 98% of their video
    max_answer_share: float = setting(0.6, min=0, max=1)          # the most common answer position
    # below this many rows a share is judged by the low end of its 95% interval, and a median not at all
    min_rows: int = setting(50, min=1)

    @classmethod
    def with_overrides(cls, overrides: Mapping[str, str]) -> "Thresholds":
        """Thresholds with `name -> value` overrides (values as typed on a command line)."""
        return load(cls, overrides=[f"{k}={v}" for k, v in overrides.items()])

    @classmethod
    def names(cls) -> str:
        """`name (default), ...` for help texts."""
        return ", ".join(f"{f.name} ({f.default})" for f in dataclasses.fields(cls))
