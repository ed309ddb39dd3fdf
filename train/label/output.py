"""The label folder of a run (pipelines/labels.py has its layout): made ready for a new run or a --resume,
filled one unit at a time, summed up in manifest.json at the end.

A unit's label part (and completions part) appear atomically, then its record; a resumed run keeps the
units whose record is there and labels the others. The manifest is built from what was written, never
from counters (which a remote runner does not bring back).
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any, Iterator, Sequence

from pipelines import labels, layout, outputs, storage
from pipelines.parquet import write_rows
from schemas.errors import UserError

SKIPS_SHOWN = 20


def prepare(out: str, identity: dict[str, Any], overwrite: bool, resume: bool) -> int:
    """Make `out` ready (under its lock, pipelines/outputs.py); returns how many finished units a --resume
    keeps. Another kind of vrft output, or a folder holding files vrft did not write, is refused; an
    --overwrite removes only what the marker names."""
    if overwrite and resume:
        raise UserError("--overwrite and --resume contradict each other; pick one")
    if storage.exists(out) and not storage.isdir(out):
        raise UserError(f"{out} exists and is not a folder")
    kind = layout.claim(out, labels.KIND, labels.ENTRIES, "reward labels", "label")
    run_file = storage.join(out, labels.RUN_FILE)
    kept = 0
    if resume:
        if not storage.exists(run_file):
            raise UserError(f"nothing to resume in {out}: no {labels.RUN_FILE} from an earlier run")
        before = storage.read_json(run_file)
        now = json.loads(json.dumps(identity))
        if before != now:
            changed = sorted(k for k in set(before) | set(now) if before.get(k) != now.get(k))
            raise UserError(f"--resume needs the settings of the run it continues; these differ: {', '.join(changed)}")
        storage.remove(layout.manifest_path(out))
        for table in (labels.LABELS, labels.COMPLETIONS):
            folder = storage.join(out, table)
            for name in storage.listdir(folder):
                if storage.is_temp(name):
                    storage.remove(storage.join(folder, name))
        kept = len(labels.finished_units(out))
    elif kind:
        if not overwrite:
            raise UserError(f"{out} is not empty; pass --overwrite to replace it or --resume to finish an interrupted run")
        outputs.clear(out, labels.ENTRIES)
    storage.makedirs(out)
    outputs.mark(out, labels.KIND, labels.ENTRIES)
    if not resume:
        storage.write_json(run_file, identity, indent=1, sort_keys=True)
    return kept


def done_units(out: str, count: int) -> set[int]:
    """Indexes of the units whose record is written (for a plan of `count` units)."""
    return {i for i in range(count) if storage.exists(labels.unit_record(out, i, count))}


def write_unit(out: str, index: int, count: int, rows: Sequence[dict[str, Any]],
               completions: Sequence[dict[str, Any]], skipped: Sequence[Sequence[str]]) -> None:
    """A finished unit: its label part and completions part (sorted by sample id; none without rows),
    then its record, which marks it done."""
    if rows:
        write_rows(labels.unit_part(out, labels.LABELS, index, count), sorted(rows, key=lambda r: r["sample_id"]),
                   labels.label_schema())
    if completions:
        write_rows(labels.unit_part(out, labels.COMPLETIONS, index, count),
                   sorted(completions, key=lambda r: (r["sample_id"], r["completion"])), labels.completions_schema())
    storage.write_json(labels.unit_record(out, index, count),
                       {"labelled": len(rows), "skipped": [list(s) for s in skipped]}, sort_keys=True)


def _records(out: str) -> Iterator[dict[str, Any]]:
    for path in labels.finished_units(out):
        yield storage.read_json(path)


def labelled(out: str) -> int:
    """Samples labelled so far (by the finished units)."""
    return sum(r["labelled"] for r in _records(out))


def build_manifest(out: str, planned: dict[str, Any], settings: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """Counts and per-task summaries from the written parts and records (`planned`: the plan's counts and
    its skips by reason)."""
    import polars as pl

    skipped: Counter[str] = Counter({k: len(v) for k, v in planned["skipped"].items()})
    examples: dict[str, list[str]] = {k: v[:SKIPS_SHOWN] for k, v in planned["skipped"].items()}
    done = 0
    for record in _records(out):
        done += record["labelled"]
        for sid, reason, detail in record["skipped"]:
            skipped[reason] += 1
            shown = examples.setdefault(reason, [])
            if len(shown) < SKIPS_SHOWN:
                shown.append(f"{sid}: {detail}")
    files = layout.parts(out, labels.LABELS)
    table = pl.read_parquet(files) if files else pl.from_arrow(labels.label_schema().empty_table())
    tasks = {}
    for (task,), part in table.group_by("task", maintain_order=True):
        tasks[task] = {
            "samples": len(part),
            "reward_mean": float(part["reward_mean"].mean()),
            "zero_spread_share": float((part["reward_std"] == 0).mean()),
            "success_mean": float(part["success"].mean()),
            "unparsed_mean": float(part["unparsed"].mean()),
        }
    return {
        "samples": {"in": planned["samples"] + sum(len(v) for v in planned["skipped"].values()),
                    "labelled": done, "skipped": sum(skipped.values())},
        "skipped_by_reason": dict(sorted(skipped.items())),
        "skipped_examples": dict(sorted(examples.items())),
        "units": planned["units"],
        "tasks": dict(sorted(tasks.items())),
        "settings": settings,
        **extra,
    }


def write_manifest(out: str, manifest: dict[str, Any]) -> str:
    return storage.write_json(layout.manifest_path(out), manifest, indent=1, default=str)
