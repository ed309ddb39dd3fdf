"""Grounded QA: a multiple-choice question answered with the moments that support it (NExT-GQA)."""

from schemas.task import AnswerPart, Task, register_task

GROUNDED_QA = register_task(
    Task(
        name="grounded_qa",
        doc="Answer a multiple-choice question and point to the evidence in time.",
        intro=(
            "The video is {duration:.2f} seconds long.\nQuestion: {query}\nOptions:\n{options}\n"
            "Pick the correct option and name the moments of the video that show it."
        ),
        parts=(
            AnswerPart(tag="answer", label="choice", component="accuracy"),
            AnswerPart(tag="glue", label="spanset", component="iou"),
        ),
        weights={"format": 1.0, "accuracy": 1.0, "iou": 1.0},
        success={"format": 1.0, "accuracy": 1.0},  # reward labels: a completion in the contract that meets this bar
    )
)
