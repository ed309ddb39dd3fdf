"""Per-record checks derived from the task declaration: every violation, not just the first.

Pipelines send a record with violations to the dead letter, the codes being the reasons.
"""

from __future__ import annotations

from typing import Any, Mapping

from schemas.task import Task, get_task
from schemas.violation import Violation, is_number

# Columns every sample needs whatever its task (the query is the sentence, question or object name).
BASE_REQUIRED = ("sample_id", "dataset", "video_key", "query")


def check_record(row: Mapping[str, Any]) -> list[Violation]:
    """All violations of `row` against its task's declaration; [] means the row is valid."""
    name = row.get("task")
    try:
        task = get_task(name)
    except KeyError:
        return [Violation("task_unknown", "task", f"no task is declared as {name!r}")]
    out: list[Violation] = []
    for col in BASE_REQUIRED:
        value = row.get(col)
        if not isinstance(value, str) or not value.strip():
            out.append(Violation(f"{col}_missing", col, f"{col} must be a non-empty string, got {value!r}"))
    return out + check_labels(task, row)


def check_labels(task: Task, row: Mapping[str, Any]) -> list[Violation]:
    """Violations of the task's labels and of the duration they are checked against."""
    out: list[Violation] = []
    duration = row.get("duration")
    if duration is not None and not (is_number(duration) and duration > 0):
        out.append(Violation("duration_invalid", "duration", f"duration must be > 0 seconds, got {duration!r}"))
    elif duration is None and task.needs_duration:
        out.append(Violation("duration_missing", "duration", f"task {task.name} needs the video's duration"))
    for lt in task.labels:
        out.extend(lt.check(row))
    return out
