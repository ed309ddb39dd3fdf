"""Everything one ingestion run needs, as plain data: it is pickled to workers and stored in the manifest."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from pipelines.normalize import RepairPolicy
from pipelines.sources.base import SourceOptions

SPEED_ONLY = ("decode_workers", "image_threads")
NOT_IDENTITY = ("out", "allow_large", *SPEED_ONLY)   # may change between a run and its --resume


class IngestError(ValueError):
    """The run cannot start as asked (a user mistake; the message says why and what to do)."""


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
    # How much of the machine decoding uses (None: one per core of the machine that decodes, which on
    # Dataflow is the worker's): decoder processes (= videos decoded at a time) and images of a
    # sequence read at a time. They change speed, never the output, so a --resume may change them.
    decode_workers: int | None = None
    image_threads: int | None = None
    # Records whose video file is absent are rejected (`video_missing`, as always) but left out of the
    # share of rejects that validation holds a run to: for a dataset whose videos are partly downloaded.
    only_present_videos: bool = False
    allow_large: bool = False                # go past the stated limits on input size (preflight)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["source"]["annotations"] = list(self.source.annotations)
        return out

    def identity(self) -> dict[str, Any]:
        """What must not change between a run and its --resume (where it writes and how fast are not)."""
        out = self.to_dict()
        for name in NOT_IDENTITY:
            out.pop(name)
        return out
