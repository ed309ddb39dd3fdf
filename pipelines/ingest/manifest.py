"""manifest.json, counted from what was written (not from in-flight counters, which a worker crash loses).

counts.input comes from the read stage's counter and must equal written + rejected: a gap means a
record was lost somewhere, and the run fails loudly instead of writing a manifest that hides it.
"""

from __future__ import annotations

import glob
import json
import os
import platform
import subprocess
from collections import Counter
from importlib import metadata
from typing import Any

import pyarrow.parquet as pq

import schemas
from pipelines.ingest.frames import FAILED_KEY
from pipelines.ingest.outdir import MANIFEST, TABLES
from pipelines.ingest.parquet_io import temp_name, write_rows
from pipelines.sources.base import open_binary

PACKAGES = ("apache-beam", "pyarrow", "decord", "ffmpeg-python", "pillow", "numpy")
TABLE_SCHEMAS = {"samples": schemas.samples_schema, "videos": schemas.videos_schema, "rejects": schemas.rejects_schema}


class RecordsLost(RuntimeError):
    """input != written + rejected: something dropped records silently."""


def parts(out: str, table: str) -> list[str]:
    pattern = f"{out}/{table}/part-*.parquet"
    if "://" not in out:
        return sorted(glob.glob(pattern))
    from apache_beam.io.filesystems import FileSystems

    return sorted(m.path for r in FileSystems.match([pattern]) for m in r.metadata_list)


def _parquet(path: str) -> pq.ParquetFile:
    return pq.ParquetFile(open_binary(path))


def ensure_tables(out: str) -> None:
    """Every table gets at least one (possibly empty) file, so readers always find its schema."""
    for table in TABLES:
        if not parts(out, table):
            write_rows(f"{out}/{table}/part-00000-of-00001.parquet", [], TABLE_SCHEMAS[table]())


def _column(files: list[str], column: str) -> list[Any]:
    return [v for f in files for v in _parquet(f).read(columns=[column]).column(column).to_pylist()]


def count_outputs(out: str) -> dict[str, Any]:
    """Counts by reading back the written tables."""
    repairs = _column(parts(out, "samples"), "repairs")
    reasons = _column(parts(out, "rejects"), "reason")
    video_files = parts(out, "videos")
    failed: dict[str, Any] = {}
    for f in video_files:
        failed.update(json.loads((_parquet(f).metadata.metadata or {}).get(FAILED_KEY.encode(), b"{}")))
    return {
        "written": len(repairs),
        "repaired": sum(1 for r in repairs if r),
        "rejected": len(reasons),
        "repaired_by_reason": dict(sorted(Counter(x for r in repairs for x in (r or [])).items())),
        "rejected_by_reason": dict(sorted(Counter(reasons).items())),
        "videos": {
            "written": sum(_parquet(f).metadata.num_rows for f in video_files),
            "failed": len(failed),
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
    return {
        "schema_version": schemas.SCHEMA_VERSION,
        "counts": {
            "input": written + rejected if input_count is None else input_count,
            "written": written,
            "repaired": counted["repaired"],
            "rejected": rejected,
        },
        "repaired_by_reason": counted["repaired_by_reason"],
        "rejected_by_reason": counted["rejected_by_reason"],
        "videos": counted["videos"],
        **extra,
        "files": {t: [p[len(out):].lstrip("/") for p in parts(out, t)] for t in TABLES},
        "options": options,
        "versions": versions(bool(options.get("frames"))),
        "timings": timings,
    }


def write(out: str, manifest: dict[str, Any]) -> str:
    """manifest.json, written last and atomically: its presence marks a finished run."""
    path = f"{out}/{MANIFEST}"
    body = (json.dumps(manifest, indent=2) + "\n").encode("utf-8")
    if "://" in out:
        from apache_beam.io.filesystems import FileSystems

        with FileSystems.create(path) as f:  # object stores publish on close
            f.write(body)
        return path
    tmp = temp_name(path)
    with open(tmp, "wb") as f:
        f.write(body)
    os.replace(tmp, path)
    return path
