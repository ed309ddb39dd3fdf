"""Ingestion: raw datasets -> normalized records -> sampled frames -> validated Parquet shards (Beam)."""
