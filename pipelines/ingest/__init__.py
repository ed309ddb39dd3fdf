"""The ingestion pipeline: `run_ingest(IngestConfig(...))` (what `vrft ingest` calls)."""

from pipelines.ingest.config import IngestConfig
from pipelines.ingest.run import IngestResult, run_ingest

__all__ = ["IngestConfig", "IngestResult", "run_ingest"]
