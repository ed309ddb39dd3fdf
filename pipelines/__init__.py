"""Data pipelines: ingestion (Beam), validation, mixing, and sample inspection."""
