"""Beam pipelines: raw datasets -> normalized records -> frames -> Parquet shards (see DESIGN.md)."""
