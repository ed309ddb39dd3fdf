"""The ingestion pipeline: `run_ingest(IngestConfig(...))` (what `vrft ingest` calls).

`run_ingest` and `IngestResult` are loaded on first use: they import Apache Beam (seconds), which
users of the light modules here (the config for `vrft ingest --help`, the run's progress) do not need.
"""

from typing import Any

from pipelines.ingest.config import IngestConfig

__all__ = ["IngestConfig", "IngestResult", "run_ingest"]


def __getattr__(name: str) -> Any:
    if name in ("IngestResult", "run_ingest"):
        from pipelines.ingest import run

        return getattr(run, name)
    raise AttributeError(f"module 'pipelines.ingest' has no attribute {name!r}")
