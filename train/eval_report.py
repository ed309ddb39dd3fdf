"""The evaluation report: per task and metric the model's value, the trivial floor beside it and the unit,
computed by reading each completion with a reward profile; one table of it for every rendering.

`report_table` is the one walk over a report (or several side by side): the terminal (`vrft eval`), the
markdown file (`metrics.md`) and the demo's HTML page all print its rows. OUT/metrics.json keeps the
shape {"title", "profile", "tasks": {task: {"n", "metrics", "floor", "floor_name", "units"}}}.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from pipelines import storage
from rewards import UNPARSED, evaluate, floor_names, floor_predictions, get_profile, metric_units
from schemas import get_task
from train.eval_items import EvalItem

METRICS_JSON, METRICS_MD = "metrics.json", "metrics.md"


@dataclass(frozen=True)
class Metric:
    component: str            # the answer part's reward component ("iou", "accuracy")
    name: str                 # "miou", "r@0.5", "ao", "accuracy", "unparsed"
    value: float
    unit: str                 # "%" (0-100) or "fraction" (0-1)
    floor: float | None       # the trivial floor's value on the same items; None when the part has none
    floor_name: str = ""      # "whole-video", "copy-first-box"

    @property
    def shown_floor(self) -> str:
        """The floor as printed beside the value: none for the share of unparsed answers (a floor
        predictor always parses; its 0 says nothing about the model)."""
        if self.floor is None or self.name == UNPARSED:
            return ""
        return f"{self.floor:.3f} ({self.floor_name})"


@dataclass(frozen=True)
class TaskReport:
    task: str
    n: int
    metrics: tuple[Metric, ...]

    def metric(self, component: str, name: str) -> Metric | None:
        return next((m for m in self.metrics if (m.component, m.name) == (component, name)), None)


@dataclass(frozen=True)
class EvalReport:
    profile: str
    tasks: tuple[TaskReport, ...]

    def task(self, name: str) -> TaskReport | None:
        return next((t for t in self.tasks if t.task == name), None)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for t in self.tasks:
            entry: dict[str, Any] = {"n": t.n, "metrics": {}, "floor": {}, "floor_name": {}, "units": {}}
            for m in t.metrics:
                entry["metrics"].setdefault(m.component, {})[m.name] = m.value
                entry["units"].setdefault(m.component, {})[m.name] = m.unit
                if m.floor is not None:
                    entry["floor"].setdefault(m.component, {})[m.name] = m.floor
                    entry["floor_name"][m.component] = m.floor_name
            out[t.task] = entry
        return {"profile": self.profile, "tasks": out}


def score_predictions(items: Sequence[EvalItem], completions: Mapping[str, str], profile: str) -> EvalReport:
    """Per task: metrics of the completions read by `profile`, and the trivial floors on the same items."""
    prof = get_profile(profile)
    by_task: dict[str, list[EvalItem]] = {}
    for item in items:
        if item.sample_id in completions:
            by_task.setdefault(item.task, []).append(item)
    reports = []
    for task, group in sorted(by_task.items()):
        decl, truths = get_task(task), [i.truth for i in group]
        preds = [prof.read(decl, completions[i.sample_id], i.truth).predictions for i in group]
        values = evaluate(task, preds, truths, include_given=prof.include_given)
        floors, names, units = floor_predictions(task, truths), floor_names(task), metric_units(task)
        floor = evaluate(task, floors, truths, include_given=prof.include_given) if floors else {}
        metrics = tuple(
            Metric(comp, name, value, "%" if name == UNPARSED else units[comp],
                   floor[comp][name] if comp in names else None, names.get(comp, ""))
            for comp, by_name in values.items() for name, value in by_name.items()
        )
        reports.append(TaskReport(task, len(group), metrics))
    return EvalReport(profile, tuple(reports))


def report_table(reports: Mapping[str, EvalReport]) -> tuple[list[str], list[list[str]]]:
    """(columns, rows) of one or more reports side by side, one column of values per report (named by its
    key), the floor and the unit of the last report beside them; rows are the last report's metrics."""
    last = list(reports.values())[-1]
    columns = ["task", "n", "component", "metric", *reports, "floor", "unit"]
    rows = []
    for t in last.tasks:
        for m in t.metrics:
            cells = [t.task, str(t.n), m.component, m.name]
            for report in reports.values():
                other = report.task(t.task)
                got = other.metric(m.component, m.name) if other else None
                cells.append("" if got is None else f"{got.value:.3f}")
            rows.append([*cells, m.shown_floor, m.unit])
    return columns, rows


def markdown(report: EvalReport, title: str) -> str:
    columns, rows = report_table({"value": report})
    lines = [f"## {title}", "", f"profile: `{report.profile}`", "",
             "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def write_metrics(report: EvalReport, out: Path, title: str) -> Path:
    """OUT/metrics.json and OUT/metrics.md, each written whole; returns the JSON's path."""
    storage.write_json(str(out / METRICS_JSON), {"title": title, **report.to_json()})
    storage.write_text(str(out / METRICS_MD), markdown(report, title))
    return out / METRICS_JSON
