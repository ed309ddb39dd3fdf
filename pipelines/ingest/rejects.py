"""Rows of the `rejects` table: every record not written, with its reason, raw form and provenance."""

from __future__ import annotations

import json
from typing import Any

from pipelines.sources.base import RawRecord

REJECTS = "rejects"  # the tag of the dead-letter output of every stage
DUPLICATES = "duplicates"  # the tag of the samples writer's rows whose content was already written
DUPLICATE = "duplicate_record"


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


def duplicate_row(row: dict[str, Any], kept: tuple[str, str]) -> dict[str, Any]:
    """The reject of a samples row whose content (hence id) an earlier record of the input already has."""
    content = {k: v for k, v in row.items() if k not in ("source_file", "source_key")}
    return {
        "reason": DUPLICATE,
        "detail": f"same content as {kept[0]} {kept[1]} (sample {row.get('sample_id')})",
        "dataset": row.get("dataset"),
        "split": row.get("split"),
        "sample_id": row.get("sample_id"),
        "video_key": row.get("video_key"),
        "source_file": row.get("source_file"),
        "source_key": row.get("source_key"),
        "raw": json.dumps({"record": content}, sort_keys=True, ensure_ascii=False, default=str),
    }
