"""Everything one ingestion run needs, as plain data: it is pickled to workers and stored in the manifest."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from pipelines.normalize import RepairPolicy
from pipelines.sources.base import SourceOptions


@dataclass(frozen=True)
class IngestConfig:
    dataset: str
    source: SourceOptions
    out: str
    frames: bool = True                      # False: labels only (--no-frames)
    policy: RepairPolicy = field(default_factory=RepairPolicy)
    frame_policy: dict[str, Any] = field(default_factory=dict)   # FramePolicy overrides (defaults: the paper's)
    video_timeout_s: float = 120.0           # per video, in the decoding worker
    videos_per_part: int = 64                # videos per videos/ file (and per resume unit)
    label_shards: int = 1                    # files per label table (samples/, rejects/)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["source"]["annotations"] = list(self.source.annotations)
        return out

    def identity(self) -> dict[str, Any]:
        """What must not change between a run and its --resume (where it writes is not part of it)."""
        out = self.to_dict()
        out.pop("out")
        return out
