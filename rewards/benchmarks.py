"""The benchmark whose official definitions a task's metrics follow, named in every report.

The label-type components compute the metrics (`rewards.components`: spans as Charades-STA and
ActivityNet Captions, evidence as NExT-GQA's `eval_ground.py`, tracks as the GOT-10k toolkit); a
benchmark adds what spans several answer parts (NExT-GQA's Acc@GQA) and the benchmark's own names.
docs/reference.md ("Benchmarks and their official metrics") gives the definitions and their sources.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from rewards.components.spanset import question_overlap
from schemas import get_task
from schemas.registry import Registry

Truth = Mapping[str, Any]
Predictions = Sequence[Mapping[str, Any]]   # one dict per sample: answer tag -> parsed prediction or None


@dataclass(frozen=True)
class Benchmark:
    name: str                                      # "NExT-GQA"
    task: str                                      # the task whose metrics follow its definitions
    source: str                                    # the official code or paper the definitions come from
    # Metrics over several answer parts: component -> metric -> value (percent).
    joint: Callable[[Predictions, Sequence[Truth]], dict[str, dict[str, float]]] | None = None
    # The benchmark's own names for component metrics: (component, metric) -> name.
    names: Mapping[tuple[str, str], str] = field(default_factory=dict)


_BENCHMARKS: Registry[Benchmark] = Registry("benchmark for task")


def register_benchmark(benchmark: Benchmark) -> Benchmark:
    return _BENCHMARKS.add(benchmark.task, benchmark)


def benchmark_for(task: str) -> Benchmark | None:
    return _BENCHMARKS.get(task) if task in _BENCHMARKS.names() else None


def acc_gqa(preds: Predictions, truths: Sequence[Truth]) -> dict[str, dict[str, float]]:
    """NExT-GQA's Acc@GQA: the share of questions answered right AND grounded with IoP >= 0.5."""
    parts = {p.label: p for p in get_task("grounded_qa").parts}
    answer, glue = parts["choice"], parts["spanset"]
    hits = [
        p.get(answer.tag) == t["answer_index"] and question_overlap(p.get(glue.tag), t)[1] >= 0.5
        for p, t in zip(preds, truths)
    ]
    return {answer.component: {"Acc@GQA": 100.0 * sum(hits) / max(1, len(hits))}}


register_benchmark(Benchmark(
    "Charades-STA / ActivityNet", "temporal_grounding",
    "R@1 at IoU 0.3/0.5/0.7 and mIoU on the published spans (VideoChat-R1's evaluation code)"))
register_benchmark(Benchmark(
    "NExT-GQA", "grounded_qa", "doc-doc/NExT-GQA code/TempGQA/eval_ground.py",
    joint=acc_gqa, names={("accuracy", "accuracy"): "Acc@QA"}))
register_benchmark(Benchmark("GOT-10k", "tracking", "got10k toolkit 0.1.3, ExperimentGOT10k"))
