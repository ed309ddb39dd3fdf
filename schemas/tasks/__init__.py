"""The built-in tasks. Importing this package registers them."""

from schemas.tasks.grounded_qa import GROUNDED_QA
from schemas.tasks.temporal_grounding import TEMPORAL_GROUNDING
from schemas.tasks.tracking import TRACKING
from schemas.tasks.video_qa import VIDEO_QA

__all__ = ["TEMPORAL_GROUNDING", "GROUNDED_QA", "VIDEO_QA", "TRACKING"]
