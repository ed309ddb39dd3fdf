"""Task declarations: each task is declared once, as data, and every stage derives from it.

A task names the text the annotator wrote (`query`), the labels it carries and, through its answer
contract, the tags a model must write, the label type parsed from each tag, the reward component
that scores it and the component weights. Shard columns, record checks, prompts, parsers, rewards
and metrics are all computed from this declaration (see `schemas.tables`, `schemas.checks`,
`schemas.prompts`, and `rewards`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from schemas.label_type import LabelType, label_type
from schemas.registry import Registry

FORMAT = "format"  # the component every task has: the answer contract was followed


@dataclass(frozen=True)
class AnswerPart:
    """One tagged block of the answer, e.g. <answer>12.5 to 17.8</answer> carrying a Span."""

    tag: str
    label: str       # label type name
    component: str   # reward component name, e.g. "iou", "accuracy"
    given: int = 0   # leading items the prompt already gives (tracking: the first box); never rewarded

    @property
    def label_type(self) -> LabelType:
        return label_type(self.label)


@dataclass(frozen=True, eq=False)  # identity semantics: hashable, one instance per registered task
class Task:
    name: str
    doc: str
    intro: str                      # task-specific opening; str.format over the prompt context
    parts: tuple[AnswerPart, ...]   # the answer contract, in the order the model writes the tags
    weights: Mapping[str, float]    # component -> weight ("format" and every part's component)
    think_hint: str = "you may mark the moments you look at with <timestep> </timestep>"
    # what counts as solving a sample (reward labels: the share of completions that succeed): component ->
    # the least value it must reach; every named component must reach its value. Empty: every component 1.
    success: Mapping[str, float] = field(default_factory=dict)

    @property
    def labels(self) -> tuple[LabelType, ...]:
        return tuple(p.label_type for p in self.parts)

    @property
    def components(self) -> tuple[str, ...]:
        return (FORMAT,) + tuple(p.component for p in self.parts)

    @property
    def success_rule(self) -> dict[str, float]:
        """Component -> the least value a successful completion reaches (`success`, or every component 1)."""
        return dict(self.success) if self.success else {c: 1.0 for c in self.components}

    @property
    def label_columns(self) -> tuple[str, ...]:
        return tuple(col for lt in self.labels for col in lt.columns)

    def frame_times(self, row: Mapping[str, Any]) -> tuple[float, ...] | None:
        """The frames a sample of this task must be shown (its labels sit on them), or None."""
        for lt in self.labels:
            times = lt.frame_times(row)
            if times is not None:
                return tuple(float(t) for t in times)
        return None

    @property
    def needs_duration(self) -> bool:
        return any(lt.needs_duration for lt in self.labels)

    def validate(self) -> None:
        if not self.parts:
            raise ValueError(f"task {self.name!r}: the answer contract needs at least one part")
        tags = [p.tag for p in self.parts]
        if len(set(tags)) != len(tags) or "think" in tags:
            raise ValueError(f"task {self.name!r}: tags must be unique and not 'think': {tags}")
        comps = [p.component for p in self.parts]
        if len(set(comps)) != len(comps) or FORMAT in comps:
            raise ValueError(f"task {self.name!r}: components must be unique and not {FORMAT!r}: {comps}")
        for p in self.parts:
            p.label_type  # raises on an unknown label type
        if set(self.success) - set(self.components):
            raise ValueError(
                f"task {self.name!r}: success names {sorted(set(self.success) - set(self.components))}, "
                f"which are not its components {list(self.components)}"
            )
        if set(self.weights) != set(self.components):
            raise ValueError(
                f"task {self.name!r}: weights {sorted(self.weights)} must name exactly {sorted(self.components)}"
            )


_TASKS: Registry[Task] = Registry("task")


def register_task(task: Task) -> Task:
    task.validate()
    return _TASKS.add(task.name, task)


get_task = _TASKS.get
tasks = _TASKS.values
unregister_task = _TASKS.remove
