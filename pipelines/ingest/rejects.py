"""Rows of the `rejects` table: every record not written, with its reason, raw form and provenance."""

from __future__ import annotations

from typing import Any

from pipelines.sources.base import RawRecord

REJECTS = "rejects"  # the tag of the dead-letter output of every stage


def reject_row(rec: RawRecord, reason: str, detail: str = "", sample_id: str | None = None, video_key: str | None = None) -> dict[str, Any]:
    return {
        "reason": reason,
        "detail": detail[:2000],
        "dataset": rec.dataset,
        "split": rec.split,
        "sample_id": sample_id,
        "video_key": video_key,
        "source_file": rec.source_file,
        "source_key": rec.source_key,
        "raw": rec.raw_json(),
    }
