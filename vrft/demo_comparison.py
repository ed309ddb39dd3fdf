"""The demo's verdicts: each system's held-out metrics with intervals, and whether GRPO beat the warm
start and the floor, per task, read from paired intervals (`rewards.compare`). Numbers in, sentences
and an HTML table out; the demo writes them (comparison.json, report.html)."""

from __future__ import annotations

import html
from collections import Counter
from pathlib import Path
from typing import Any, Mapping, Sequence

from rewards import UNPARSED, component_for, metric_units, write_answer
from rewards.compare import FLOOR, MetricComparison, compare_task
from rewards.intervals import METHOD, Interval
from schemas import get_task
from train.eval_items import read_items

PRIOR = "prior"
WORDS = {"beat": "beat", "worse": "did worse than", "no clear difference": "could not be told apart from"}


def unit(task: str, component: str, metric: str) -> str:
    """The unit of a metric as `vrft eval` prints it: "%" (0-100) or "fraction" (0-1)."""
    return "%" if metric == UNPARSED else metric_units(task)[component]


def compare_all(shards: Mapping[str, Path], completions: Mapping[str, Mapping[str, Mapping[str, str]]],
                pairs: Sequence[tuple[str, str]], train: Path) -> dict[str, list[MetricComparison]]:
    """task -> its metric comparisons: every system's completions of the task's held-out samples, and
    the "prior" (`prior_answers`, fitted on the training shards `train`) where the task has one."""
    train_items = read_items(train)
    out = {}
    for task, per_system in _by_task(completions).items():
        items = read_items(shards[task])
        texts = {name: [answers.get(i.sample_id, "") for i in items] for name, answers in per_system.items()}
        prior = prior_answers(task, [i.truth for i in train_items if i.task == task], [i.truth for i in items])
        if prior is not None:
            texts[PRIOR] = prior
        out[task] = compare_task(task, [i.truth for i in items], texts, pairs=pairs)
    return out


def best_fractions(truths: Sequence[Mapping[str, Any]], part, step: float = 0.02) -> tuple[float, float]:
    """The fixed (start, end) fractions of the duration whose span scores best on these truths."""
    comp, grid = component_for(part.label), [round(k * step, 6) for k in range(int(round(1 / step)) + 1)]

    def pred(truth, a, b):
        span = (a * float(truth["duration"]), b * float(truth["duration"]))
        return [span] if part.label == "spanset" else span

    def mean_score(a, b):
        return sum(comp.score(pred(t, a, b), t, part) for t in truths) / len(truths)

    return max(((a, b) for a in grid for b in grid if a < b), key=lambda ab: mean_score(*ab))


def prior_answers(task: str, train: Sequence[Mapping[str, Any]], held_out: Sequence[Mapping[str, Any]]) -> list[str] | None:
    """Answers that never look at the video: each span the fixed fractions of the stated duration that
    score best on the training labels, each multiple choice the training labels' most frequent letter.
    None for a task with another kind of part (a box track)."""
    fits: dict[str, Any] = {}
    for part in get_task(task).parts:
        if part.label in ("span", "spanset"):
            fits[part.tag] = (part.label, best_fractions(train, part))
        elif part.label == "choice":
            fits[part.tag] = (part.label, Counter(t["answer_index"] for t in train).most_common(1)[0][0])
        else:
            return None
    out = []
    for t in held_out:
        preds = {}
        for tag, (label, fit) in fits.items():
            if label == "choice":
                preds[tag] = fit if fit < len(t["choices"]) else 0
            else:
                span = (fit[0] * float(t["duration"]), fit[1] * float(t["duration"]))
                preds[tag] = [span] if label == "spanset" else span
        out.append(write_answer(task, preds, bool(t.get("think", True)), thought="prior"))
    return out


def _by_task(completions: Mapping[str, Mapping[str, Mapping[str, str]]]) -> dict[str, dict[str, Mapping[str, str]]]:
    tasks: dict[str, dict[str, Mapping[str, str]]] = {}
    for system, per_task in completions.items():
        for task, answers in per_task.items():
            tasks.setdefault(task, {})[system] = answers
    return tasks


def fmt(iv: Interval | None, digits: int = 1) -> str:
    return "" if iv is None else f"{iv.value:.{digits}f} [{iv.low:.{digits}f}, {iv.high:.{digits}f}]"


def _digits(row: MetricComparison) -> int:
    return 3 if unit(row.task, row.component, row.metric) == "fraction" else 1


def verdicts(task: str, rows: Sequence[MetricComparison], chance: float | None = None) -> list[str]:
    """One sentence per answer component (its headline metric): GRPO against the warm start, the floor
    (or, for a multiple choice, chance beside it) and the no-video prior, each with the paired interval."""
    out = []
    for row in rows:
        if not row.primary:
            continue
        d = _digits(row)
        parts = [_against(row, "warm start", "the warm start", d)]
        if FLOOR in row.values:
            parts.append(_against(row, FLOOR, "the floor", d))
        if PRIOR in row.values:
            parts.append(_against(row, PRIOR, "the no-video prior", d))
        text = (f"{task}, {row.component} {row.metric} ({row.n} held-out samples): GRPO {fmt(row.values['GRPO'], d)}; "
                f"it {'; it '.join(parts)}")
        if FLOOR not in row.values and chance is not None:
            text += f"; no trivial floor (a random letter scores {chance:.1f})"
        out.append(text + ".")
    return out


def verdict_sentences(shards: Mapping[str, Path], comparisons: Mapping[str, Sequence[MetricComparison]],
                      trained_on: Sequence[str]) -> list[str]:
    """The verdicts of every task, chance beside multiple choices, untrained tasks said so."""
    out = []
    for task, rows in comparisons.items():
        chance = chance_accuracy([i.truth for i in read_items(shards[task])])
        note = "" if task in trained_on else " (Not trained in the demo: see below.)"
        out += [s + note for s in verdicts(task, rows, chance)]
    return out


def answer_variety(answers: Mapping[str, Mapping[str, str]], system: str = "GRPO") -> list[str]:
    """Per task (task -> sample id -> completion), how many different answers `system` wrote for its
    held-out videos and how often the most common one: a model that writes one answer for every video
    has learned a constant (where events tend to lie, the most frequent letter), not to look."""
    out = []
    for task, per_sample in answers.items():
        counts = Counter(" ".join(text.split()) for text in per_sample.values())
        if not counts:
            continue
        top, n = counts.most_common(1)[0]
        total = sum(counts.values())
        if len(counts) == 1:
            out.append(f"{task}: {system} wrote the same answer for all {total} held-out videos ({top!r}).")
        else:
            out.append(f"{task}: {system} wrote {len(counts)} different answers for the {total} held-out videos; "
                       f"the most common, {top!r}, for {n}.")
    return out


def _against(row: MetricComparison, other: str, name: str, d: int) -> str:
    """'beat the floor (37.1 [34.1, 40.0]) by +12.4 [+9.3, +16.0]' and the like."""
    diff = row.differences[(other, "GRPO")]
    return (f"{WORDS[row.verdict(other, 'GRPO')]} {name} ({fmt(row.values[other], d)}): "
            f"{diff.value:+.{d}f} [{diff.low:+.{d}f}, {diff.high:+.{d}f}]")


def parsed(comparisons: Mapping[str, Sequence[MetricComparison]], system: str) -> str:
    """'temporal_grounding 75%, ...': per task, the share of a system's answers read in full (100 minus
    the most unparsed of its parts)."""
    shares = {task: 100.0 - max(r.values[system].value for r in rows if r.metric == "unparsed")
              for task, rows in comparisons.items()}
    return ", ".join(f"{task} {share:.0f}%" for task, share in shares.items())


def chance_accuracy(truths: Sequence[Mapping[str, Any]]) -> float | None:
    """Mean accuracy (%) of a uniformly random letter: 100 / options, averaged over the samples."""
    counts = [len(t["choices"]) for t in truths if t.get("choices")]
    return 100.0 * sum(1 / c for c in counts) / len(counts) if counts else None


def table_html(comparisons: Mapping[str, Sequence[MetricComparison]], systems: Sequence[str]) -> str:
    """Every metric of every task: each system's value [95% interval], and the floor's."""
    head = "".join(f"<th>{html.escape(s)}</th>" for s in (*systems, PRIOR, FLOOR, "GRPO - warm start"))
    lines = [f"<table><tr><th>task</th><th>n</th><th>component</th><th>metric</th><th>unit</th>{head}</tr>"]
    for task, rows in comparisons.items():
        for row in rows:
            d = _digits(row)
            gain = row.differences.get(("warm start", "GRPO"))
            cells = [task, str(row.n), row.component, row.metric, unit(row.task, row.component, row.metric),
                     *(fmt(row.values.get(s), d) for s in (*systems, PRIOR, FLOOR)),
                     "" if gain is None else f"{gain.value:+.{d}f} [{gain.low:+.{d}f}, {gain.high:+.{d}f}]"]
            lines.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
    return "\n".join(lines) + "</table>\n<p>Intervals: " + html.escape(METHOD) + "; a difference is paired (both " \
        "systems on the same resampled samples). Floor: the whole video for spans, the first box copied for tracks. " \
        "Prior: answers that never look at the video (each span the fixed fractions of the stated duration that score " \
        "best on the training labels, each choice the most frequent training letter).</p>"


def to_json(comparisons: Mapping[str, Sequence[MetricComparison]]) -> dict[str, Any]:
    """comparison.json: every value and difference with its interval, and the verdicts."""
    def iv(i: Interval) -> dict[str, float]:
        return {"value": i.value, "low": i.low, "high": i.high}

    return {"method": METHOD, "tasks": {task: [{
        "n": r.n, "component": r.component, "metric": r.metric, "primary": r.primary,
        "values": {k: iv(v) for k, v in r.values.items()},
        "differences": {f"{b} - {a}": {**iv(v), "verdict": r.verdict(a, b)} for (a, b), v in r.differences.items()},
    } for r in rows] for task, rows in comparisons.items()}}
