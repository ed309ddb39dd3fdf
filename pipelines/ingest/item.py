"""The element that flows between the ingestion stages: a drafted record and what is known about it.

    ReadRecords -> RawRecord -> DraftRecords -> Item -> SampleFrames | ProbeDurations -> Item (+ facts)
        -> NormalizeRecords -> samples row

An `Item` is made once, when its record is drafted; what every later stage asks of it (the sample id,
the video it needs, the frame times its labels sit on) is computed there and travels with it. Any
stage that gives up on it calls `item.reject(reason, detail)`, which makes its `rejects` row.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import schemas
from pipelines.ingest.rejects import reject_row
from pipelines.normalize import id_of
from pipelines.sources.base import Draft, RawRecord, Rejected
from pipelines.video.media import Media, VideoFile

ALIGNMENT_TOLERANCE_S = 1e-3


@dataclass(frozen=True)
class VideoFacts:
    """What the video stage established about a sample's video: its duration and, when frames were
    decoded, the times of those frames (None for a labels-only run, which only reads the header)."""

    duration: float | None
    timestamps: tuple[float, ...] | None = None


def wanted_times(draft: Draft) -> tuple[float, ...] | None:
    """The frames a sample must be shown: those its media names (an image sequence), else those its
    labels sit on (a box track, by its task's declaration); None when any frame plan will do."""
    media = draft.get("media")
    if getattr(media, "timestamps", None):
        return tuple(float(t) for t in media.timestamps)
    try:
        return schemas.get_task(draft.get("task")).frame_times(draft)
    except (KeyError, TypeError, ValueError):
        return None  # an unknown task or malformed boxes: the record checks reject it later


def clean_key(value: Any) -> str | None:
    """A video key worth looking up: a non-blank string, stripped."""
    return value.strip() if isinstance(value, str) and value.strip() else None


@dataclass(frozen=True)
class Item:
    record: RawRecord
    draft: Draft
    sample_id: str                            # the row's id (or the one it would have had), computed once
    video_key: str | None                     # None: no video to decode (the checks reject it later)
    wanted_times: tuple[float, ...] | None    # frames the labels need; None: any frame plan will do
    facts: VideoFacts | None = None           # set by the video stage (None: not looked at, or not needed)

    @classmethod
    def of(cls, record: RawRecord, draft: Draft) -> "Item":
        return cls(record, draft, id_of(record, draft), clean_key(draft.get("video_key")), wanted_times(draft))

    @property
    def media(self) -> Media:
        """Where the pixels are (a draft without media: a video file named like its key)."""
        return self.draft.get("media") or VideoFile()

    @property
    def task(self) -> str | None:
        return self.draft.get("task")

    def with_facts(self, facts: VideoFacts | None) -> "Item":
        return replace(self, facts=facts)

    def reject(self, reason: str, detail: str = "") -> dict[str, Any]:
        """This sample's `rejects` row."""
        return reject_row(self.record, reason, detail, self.sample_id, self.video_key)

    def check_frames(self) -> None:
        """A sample that names its frames' times (tracking) must get exactly those frames."""
        got = self.facts.timestamps if self.facts else None
        if self.wanted_times is None or got is None:
            return
        if len(self.wanted_times) != len(got) or any(
            abs(a - b) > ALIGNMENT_TOLERANCE_S for a, b in zip(self.wanted_times, got)
        ):
            raise Rejected("frames_misaligned", f"asked for frames at {list(self.wanted_times)}, decoded {list(got)}")
