"""Registries that meet: every stage keyed by label type covers every label type a task uses.

Reward components (rewards), validation checks (pipelines.validate) and report plots (pipelines.report)
are registries keyed by label type or task name, each in the package that owns it. Each of them
registers a requirement here when it loads; `check_coverage` (run at the entry points: the command
line, the trainer, validation) asks every registered requirement about every part of every declared
task and fails naming all that is missing, instead of a task failing at its first score or a label
type silently skipped by the checks and plots. A label type may exempt itself from an exemptible
requirement, with a reason (`LabelType.exempt`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from schemas.registry import Registry
from schemas.task import AnswerPart, Task, tasks


@dataclass(frozen=True)
class Requirement:
    name: str                                           # what a label type needs, e.g. "validation checks"
    lacking: Callable[[Task, AnswerPart], str | None]   # None when the part is covered, else what is missing
    exemptible: bool = True                             # whether `LabelType.exempt` may waive it


class CoverageError(ValueError):
    """Declared tasks that a registry does not cover (a developer's mistake, found at start-up)."""


_REQUIREMENTS: Registry[Requirement] = Registry("coverage requirement")


def require(requirement: Requirement) -> Requirement:
    return _REQUIREMENTS.add(requirement.name, requirement)


def coverage_problems() -> list[str]:
    """One line per (task part, requirement) that is neither covered nor exempted."""
    out = []
    for task in tasks():
        for part in task.parts:
            label = part.label_type
            for req in sorted(_REQUIREMENTS.values(), key=lambda r: r.name):  # stable, whatever the import order
                where = f"task {task.name!r} <{part.tag}> (label type {label.name!r})"
                if req.name in label.exempt:
                    if not req.exemptible:
                        out.append(f"{where}: {req.name} cannot be exempted")
                    continue
                missing = req.lacking(task, part)
                if missing:
                    out.append(f"{where}: {missing}")
    return out


def check_coverage() -> None:
    """Raise CoverageError naming every uncovered task part; nothing when all registries meet."""
    problems = coverage_problems()
    if problems:
        raise CoverageError("registries do not cover the declared tasks: " + "; ".join(problems))


requirement_names = _REQUIREMENTS.names
unrequire = _REQUIREMENTS.remove
