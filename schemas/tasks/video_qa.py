"""Video QA: a multiple-choice question about the video (NExT-QA, Video-R1 multiple choice)."""

from schemas.task import AnswerPart, Task, register_task

VIDEO_QA = register_task(
    Task(
        name="video_qa",
        doc="Answer a multiple-choice question about the video.",
        intro="Question: {query}\nOptions:\n{options}\nPick the correct option.",
        parts=(AnswerPart(tag="answer", label="choice", component="accuracy"),),
        weights={"format": 1.0, "accuracy": 1.0},
        success={"format": 1.0, "accuracy": 1.0},  # reward labels: a completion in the contract that meets this bar
    )
)
