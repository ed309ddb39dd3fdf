"""Tracking: follow an object given its first box (GOT-10k); the given box is never rewarded."""

from schemas.task import AnswerPart, Task, register_task

TRACKING = register_task(
    Task(
        name="tracking",
        doc="Give the object's box in every frame, starting from the box given for the first frame.",
        intro=(
            "You see {n_boxes} frames of a video. In the first frame the {query} is inside the box"
            " {first_box} (x0, y0, x1, y1 as fractions of the frame width and height)."
            " Follow the {query} through all {n_boxes} frames."
        ),
        parts=(AnswerPart(tag="answer", label="boxtrack", component="iou", given=1),),
        weights={"format": 1.0, "iou": 1.0},
        success={"format": 1.0, "iou": 0.5},  # reward labels: a completion in the contract that meets this bar
        think_hint="you may note where the object moves",
    )
)
