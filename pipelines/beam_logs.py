"""Beam's log lines that say nothing about a vrft run, kept out of the user's output.

Installed when the `pipelines` package loads (before Beam does), so the command line, the demo and
library callers all get it.
"""

from __future__ import annotations

import logging

NOISE = (
    "apitools not found",                                  # on first use of Beam's GCP modules, without its GCP extras
    "Unable to check soft delete policy",                   # GCS bucket checks, without the GCP extras
    "requested in with_outputs() but not declared",         # Beam's own dead-letter tag, not one of ours
)
LOGGERS = ("", "apache_beam.options.pipeline_options", "apache_beam.transforms.core")  # filters do not apply to propagated records


def _relevant(record: logging.LogRecord) -> bool:
    message = record.getMessage()
    return not any(n in message for n in NOISE)


def quiet_beam() -> None:
    """Drop the lines in NOISE from Beam's loggers (once; calling again changes nothing)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if _relevant not in logger.filters:
            logger.addFilter(_relevant)
