"""Task declarations and everything derived from them; imports nothing else of vrft's.

    from schemas import get_task, check_record, render_prompt, samples_schema
"""

from schemas import labels as _labels  # noqa: F401  (registers the built-in label types)
from schemas import tasks as _tasks  # noqa: F401  (registers the built-in tasks)
from schemas.checks import check_labels, check_record
from schemas.coverage import CoverageError, Requirement, check_coverage, require
from schemas.label_type import LabelType, label_type, label_types, register_label_type, unregister_label_type
from schemas.labels import option_letter
from schemas.prompts import VIDEO_PLACEHOLDER, example_answer, render_prompt
from schemas.tables import (
    SCHEMA_VERSION, corrupt_frames, frame_crc32, rejects_schema, samples_schema, schema_version, training_schema,
    videos_schema,
)
from schemas.task import FORMAT, AnswerPart, Task, get_task, register_task, tasks, unregister_task
from schemas.training import FrameError, StoredVideo, frame_columns, ground_truth, stored_video, training_row, video_entry
from schemas.violation import Violation

__all__ = [
    "AnswerPart", "CoverageError", "FORMAT", "FrameError", "LabelType", "StoredVideo", "Requirement", "SCHEMA_VERSION", "Task", "VIDEO_PLACEHOLDER",
    "Violation", "check_coverage", "check_labels", "check_record", "corrupt_frames", "example_answer", "frame_columns", "frame_crc32",
    "get_task", "ground_truth",
    "label_type", "label_types", "option_letter", "register_label_type", "register_task", "rejects_schema",
    "render_prompt", "require", "samples_schema", "schema_version", "stored_video", "tasks", "training_row",
    "training_schema", "unregister_label_type", "unregister_task", "video_entry", "videos_schema",
]
