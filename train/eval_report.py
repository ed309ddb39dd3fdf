"""The evaluation report: per task the model's metrics as the task's benchmark defines them, the trivial
floors on the same items and the unit, computed by reading each completion with a reward profile; one
table of it for every rendering.

`report_table` is the one walk over a report (or several side by side): the terminal (`vrft eval`), the
markdown file (`metrics.md`) and the demo's HTML page all print its rows. OUT/metrics.json keeps the
shape {"title", "writer": {"model", "fingerprint"}, "profile", "tasks": {task: {"n", "benchmark",
"datasets", "metrics": {component: {name: value}}, "floors": {floor: {component: {name: value}}},
"units": {component: {name: unit}}}}}.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from pipelines import storage
from rewards import UNPARSED, benchmark_for, evaluate, floors, get_profile, metric_units
from schemas import get_task
from train.eval_items import EvalItem

METRICS_JSON, METRICS_MD = "metrics.json", "metrics.md"


@dataclass(frozen=True)
class Metric:
    component: str                              # the answer part's reward component ("iou", "accuracy")
    name: str                                   # as the benchmark names it: "mIoU", "R1@0.5", "Acc@GQA", "AO"
    value: float
    unit: str                                   # "%" (0-100) for every built-in metric
    floors: tuple[tuple[str, float], ...] = ()  # (floor name, its value on the same items)

    @property
    def shown_floors(self) -> str:
        """The floors as printed beside the value: none for the share of unparsed answers (a trivial
        predictor always parses; its 0 says nothing about the model)."""
        if self.name == UNPARSED:
            return ""
        return "; ".join(f"{value:.2f} {name}" for name, value in self.floors)


@dataclass(frozen=True)
class TaskReport:
    task: str
    n: int
    metrics: tuple[Metric, ...]
    benchmark: str = ""            # whose definitions the metrics follow ("NExT-GQA"); "" for none
    datasets: tuple[str, ...] = ()  # the datasets the items came from

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
            entry: dict[str, Any] = {"n": t.n, "benchmark": t.benchmark, "datasets": list(t.datasets),
                                     "metrics": {}, "floors": {}, "units": {}}
            for m in t.metrics:
                entry["metrics"].setdefault(m.component, {})[m.name] = m.value
                entry["units"].setdefault(m.component, {})[m.name] = m.unit
                for name, value in m.floors:
                    entry["floors"].setdefault(name, {}).setdefault(m.component, {})[m.name] = value
            out[t.task] = entry
        return {"profile": self.profile, "tasks": out}


def task_report(task: str, group: Sequence[EvalItem], predictions: Sequence[Mapping[str, Any]],
                include_given: bool) -> TaskReport:
    """One task's metrics, each with the floors that apply to it, from parsed predictions."""
    truths = [i.truth for i in group]
    values, units = evaluate(task, predictions, truths, include_given), metric_units(task)
    by_floor = floors(task, truths, include_given)
    metrics = tuple(
        Metric(comp, name, value, "%" if name == UNPARSED else units[comp],
               tuple((f, fv[comp][name]) for f, fv in by_floor.items() if name in fv.get(comp, {})))
        for comp, by_name in values.items() for name, value in by_name.items()
    )
    bench = benchmark_for(task)
    return TaskReport(task, len(group), metrics, bench.name if bench else "",
                      tuple(sorted({i.dataset for i in group if i.dataset})))


def score_predictions(items: Sequence[EvalItem], completions: Mapping[str, str], profile: str) -> EvalReport:
    """Per task: metrics of the completions read by `profile`, and the trivial floors on the same items."""
    prof = get_profile(profile)
    by_task: dict[str, list[EvalItem]] = {}
    for item in items:
        if item.sample_id in completions:
            by_task.setdefault(item.task, []).append(item)
    reports = []
    for task, group in sorted(by_task.items()):
        decl = get_task(task)
        preds = [prof.read(decl, completions[i.sample_id], i.truth).predictions for i in group]
        reports.append(task_report(task, group, preds, prof.include_given))
    return EvalReport(profile, tuple(reports))


def report_table(reports: Mapping[str, EvalReport]) -> tuple[list[str], list[list[str]]]:
    """(columns, rows) of one or more reports side by side, one column of values per report (named by its
    key), the floors of the last report beside them; rows are the last report's metrics, each named with
    its unit ("mIoU (%)")."""
    last = list(reports.values())[-1]
    columns = ["task", "benchmark", "n", "component", "metric (unit)", *reports, "floors"]
    rows = []
    for t in last.tasks:
        for m in t.metrics:
            cells = [t.task, t.benchmark or "-", str(t.n), m.component, f"{m.name} ({m.unit})"]
            for report in reports.values():
                other = report.task(t.task)
                got = other.metric(m.component, m.name) if other else None
                cells.append("" if got is None else f"{got.value:.2f}")
            rows.append([*cells, m.shown_floors])
    return columns, rows


def markdown(report: EvalReport, title: str) -> str:
    columns, rows = report_table({"value": report})
    lines = [f"## {title}", "", f"profile: `{report.profile}`; floors: trivial predictions and chance on the "
             "same samples", "",
             "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def write_metrics(report: EvalReport, out: Path, title: str, writer: Mapping[str, Any] | None = None) -> Path:
    """OUT/metrics.json (with `writer`: the model and fingerprint that wrote the predictions) and
    OUT/metrics.md, each written whole; returns the JSON's path."""
    who = {k: writer[k] for k in ("model", "fingerprint") if k in writer} if writer else None
    storage.write_json(str(out / METRICS_JSON), {"title": title, **({"writer": who} if who else {}), **report.to_json()})
    storage.write_text(str(out / METRICS_MD), markdown(report, title))
    return out / METRICS_JSON
