"""One training row from a sample and its frames: vrft's columns plus verl's.

`reward_model.ground_truth` is a JSON string holding the task, the label fields and the duration: the
same object `rewards` scores, so verl's `compute_score` and our trainer read one truth.
"""

from __future__ import annotations

import json
from typing import Any, Mapping, Sequence

from schemas.prompts import render_prompt
from schemas.task import get_task


def ground_truth(row: Mapping[str, Any], think: bool = True) -> dict[str, Any]:
    """The scoring truth of a sample: task, label columns, duration and the prompt variant."""
    task = get_task(row["task"])
    truth: dict[str, Any] = {"task": task.name, "think": think}
    for col in task.label_columns:
        truth[col] = row.get(col)
    if row.get("duration") is not None:
        truth["duration"] = row["duration"]
    if row.get("published"):  # labels as published, where a repair changed them: what benchmarks score
        truth["published"] = json.loads(row["published"])
    return truth


def training_row(
    row: Mapping[str, Any],
    frames: Sequence[bytes],
    timestamps: Sequence[float],
    fps: float,
    think: bool = True,
    index: int = 0,
) -> dict[str, Any]:
    """A self-contained example: prompt, frames with their times, and the truth (see tables.training_schema)."""
    task = get_task(row["task"])
    return {
        "sample_id": row["sample_id"],
        "task": task.name,
        "dataset": row.get("dataset"),
        "split": row.get("split"),
        "video_key": row.get("video_key"),
        "think": think,
        "data_source": f"vrft/{row.get('dataset')}/{task.name}",
        "prompt": render_prompt(task, row, think=think),
        "videos": [{"video": list(frames), "timestamps": [float(t) for t in timestamps], "fps": float(fps)}],
        "reward_model": {"style": "rule", "ground_truth": json.dumps(ground_truth(row, think), sort_keys=True)},
        "extra_info": {"index": index, "sample_id": row["sample_id"], "task": task.name, "think": think},
    }
