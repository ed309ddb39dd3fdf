"""Temporal grounding: a sentence -> the Span of the video it describes (Charades-STA, ActivityNet)."""

from schemas.task import AnswerPart, Task, register_task

TEMPORAL_GROUNDING = register_task(
    Task(
        name="temporal_grounding",
        doc="Find when the described event happens.",
        intro=(
            "The video is {duration:.2f} seconds long. Find the part of the video where this happens:"
            ' "{query}".'
        ),
        parts=(AnswerPart(tag="answer", label="span", component="iou"),),
        weights={"format": 1.0, "iou": 1.0},
        success={"format": 1.0, "iou": 0.5},  # reward labels: a completion in the contract that meets this bar
    )
)
