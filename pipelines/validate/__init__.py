"""Validation of an ingestion folder: a GX suite generated from the task declarations, a report, a verdict.

    from pipelines.validate import validate_dataset
    result = validate_dataset("out/charades_sta_test")      # writes out/charades_sta_test/report/
    result.success, result.failures

`Thresholds` loads without pandas (the command line's help lists them); the rest on first use.
"""

from typing import Any

from pipelines.validate.thresholds import Thresholds

__all__ = ["Thresholds", "ValidationResult", "validate_dataset"]


def __getattr__(name: str) -> Any:
    if name in ("ValidationResult", "validate_dataset"):
        from pipelines.validate import run

        return getattr(run, name)
    raise AttributeError(f"module 'pipelines.validate' has no attribute {name!r}")
