"""manifest.json, counted from what was written (not from in-flight counters, which a worker crash loses).

counts.input comes from the read stage's counter and must equal written + rejected: a gap means a
record was lost somewhere, and the run fails loudly instead of writing a manifest that hides it. With
--only-present-videos, counts.video_absent says how many of the rejects are records whose video is not
there (`video_missing`), which validation leaves out of the share of rejects.
"""

from __future__ import annotations

import platform
import subprocess
from collections import Counter
from importlib import metadata
from typing import Any

import schemas
from pipelines import layout, storage
from pipelines.ingest.frames import read_failures
from pipelines.parquet import open_parquet

ABSENT = "video_missing"
PACKAGES = ("apache-beam", "pyarrow", "fsspec", "decord", "ffmpeg-python", "pillow", "numpy")


class RecordsLost(RuntimeError):
    """input != written + rejected: something dropped records silently."""


def drop_empty_tables(out: str) -> None:
    """A table that got no rows has no files (layout.py); its empty folder goes too."""
    for table in layout.TABLES:
        folder = storage.join(out, table)
        if storage.isdir(folder) and not storage.listdir(folder):
            storage.remove(folder)


def _column(files: list[str], column: str) -> list[Any]:
    return [v for f in files for v in open_parquet(f).read(columns=[column]).column(column).to_pylist()]


def count_outputs(out: str) -> dict[str, Any]:
    """Counts by reading back the written tables."""
    repairs = _column(layout.parts(out, "samples"), "repairs")
    reasons = _column(layout.parts(out, "rejects"), "reason")
    video_metadata = [open_parquet(f).metadata for f in layout.parts(out, "videos")]
    failed: dict[str, Any] = {}
    for record in layout.batch_records(out, "videos"):
        failed.update(read_failures(record))
    written = sum(meta.num_rows for meta in video_metadata)
    return {
        "written": len(repairs),
        "repaired": sum(1 for r in repairs if r),
        "rejected": len(reasons),
        "repaired_by_reason": dict(sorted(Counter(x for r in repairs for x in (r or [])).items())),
        "rejected_by_reason": dict(sorted(Counter(reasons).items())),
        "videos": {
            "written": written,
            "failed": len(failed),
            # what the decoders worked on: a video that was not found was looked up, not decoded
            "decoded": written + sum(1 for v in failed.values() if v[0] != ABSENT),
            "failed_by_reason": dict(sorted(Counter(v[0] for v in failed.values()).items())),
        },
    }


def versions(frames: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"python": platform.python_version(), "schema_version": schemas.SCHEMA_VERSION}
    for name in ("vrft", *PACKAGES):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    if frames:
        try:
            first = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True, timeout=10).stdout
            out["ffmpeg"] = first.splitlines()[0] if first else None
        except (OSError, subprocess.SubprocessError):
            out["ffmpeg"] = None
    return out


def build(out: str, input_count: int | None, options: dict[str, Any], timings: dict[str, float], extra: dict[str, Any]) -> dict[str, Any]:
    counted = count_outputs(out)
    written, rejected = counted["written"], counted["rejected"]
    if input_count is not None and input_count != written + rejected:
        raise RecordsLost(f"read {input_count} records but wrote {written} and rejected {rejected}")
    counts = {
        "input": written + rejected if input_count is None else input_count,
        "written": written,
        "repaired": counted["repaired"],
        "rejected": rejected,
    }
    if options.get("only_present_videos"):  # asked for: validation leaves these out of the share of rejects
        counts["video_absent"] = counted["rejected_by_reason"].get(ABSENT, 0)
    return {
        "schema_version": schemas.SCHEMA_VERSION,
        "counts": counts,
        "repaired_by_reason": counted["repaired_by_reason"],
        "rejected_by_reason": counted["rejected_by_reason"],
        "videos": counted["videos"],
        **extra,
        "files": {t: [f"{t}/{storage.basename(p)}" for p in layout.parts(out, t)] for t in layout.TABLES},
        "options": options,
        "versions": versions(bool(options.get("frames"))),
        "timings": timings,
    }


def write(out: str, manifest: dict[str, Any]) -> str:
    """manifest.json, written last and whole: its presence marks a finished run."""
    return storage.write_json(layout.manifest_path(out), manifest, indent=2)
