"""Data pipelines: ingestion (Beam), validation, mixing, and sample inspection."""

from pipelines.beam_logs import quiet_beam

quiet_beam()  # before anything here imports Apache Beam, which warns while it loads
