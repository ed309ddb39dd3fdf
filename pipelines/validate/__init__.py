"""Validation of an ingestion folder: a GX suite generated from the task declarations, a report, a verdict.

    from pipelines.validate import validate_dataset
    result = validate_dataset("out/charades_sta_test")      # writes out/charades_sta_test/report/
    result.success, result.failures
"""

from pipelines.validate.distribution import Thresholds
from pipelines.validate.run import ValidationResult, validate_dataset

__all__ = ["Thresholds", "ValidationResult", "validate_dataset"]
