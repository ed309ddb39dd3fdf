"""Whole-dataset checks that catch a broken adapter: every row can be valid and the set still wrong.

A units slip (frames read as seconds) clips most spans to the video's end; an adapter that always
puts the answer first makes one letter win; a parser that chokes rejects most records. These are
shares over the dataset, checked against thresholds a person can override (`--set NAME=VALUE`).
Shares computed from fewer than `min_rows` rows are not checked (a note says so).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Mapping

import pandas as pd

from pipelines.report.profile import DatasetProfile
from pipelines.validate.spec import CheckTable, Expect, between
from pipelines.validate.suite import POLICY_REPAIRS
from schemas.config import load, setting

DATASET = "dataset"


@dataclass(frozen=True)
class Thresholds:
    config_item: ClassVar[str] = "threshold"
    # of written rows, by the repair policy (Charades-STA: ~15% clipped)
    max_repaired_share: float = setting(0.25, min=0, max=1)
    max_rejected_share: float = setting(0.25, min=0, max=1)       # of input records
    min_span_fraction_median: float = setting(0.01, min=0, max=1)  # median interval length / video duration
    max_span_fraction_median: float = setting(0.9, min=0, max=1)
    max_whole_video_share: float = setting(0.5, min=0, max=1)     # intervals covering >= 98% of their video
    max_answer_share: float = setting(0.6, min=0, max=1)          # the most common answer position
    min_rows: int = setting(50, min=1)

    @classmethod
    def with_overrides(cls, overrides: Mapping[str, str]) -> "Thresholds":
        """Thresholds with `name -> value` overrides (values as typed on a command line)."""
        return load(cls, overrides=[f"{k}={v}" for k, v in overrides.items()])


def dataset_checks(profile: DatasetProfile, manifest: Mapping[str, Any] | None, th: Thresholds) -> tuple[CheckTable, pd.DataFrame, list[str]]:
    """(the check table, its one-row frame, notes on what was not checked)."""
    row: dict[str, Any] = {DATASET: "all"}
    exps: list[Expect] = []
    notes: list[str] = []

    def check(column: str, value: float, low: float | None, high: float | None, about: str, n: int) -> None:
        if n < th.min_rows:
            notes.append(f"{column} not checked: {n} rows, fewer than min_rows={th.min_rows}")
            return
        row[column] = value
        exps.append(between(column, low, high, about=about))

    written = sum(profile.counts.get("task", {}).values())
    repaired = profile.counts.get("policy_repaired", {}).get("rows", 0)
    check("repaired_share", repaired / max(written, 1), None, th.max_repaired_share,
          "share of rows whose labels the repair policy changed (clipped spans)", written)
    for reason, n in sorted(profile.counts.get("repairs", {}).items()):
        if reason not in POLICY_REPAIRS:
            notes.append(f"{n} of {written} rows ({n / max(written, 1):.0%}) carry the adapter's assumption {reason}")
    counts = (manifest or {}).get("counts")
    if counts:
        absent = counts.get("video_absent", 0)  # --only-present-videos: records not asked for
        inp = counts.get("input", 0) - absent
        check("rejected_share", (counts.get("rejected", 0) - absent) / max(inp, 1), None, th.max_rejected_share,
              "share of input records rejected" + (" (records without their video left out)" if absent else ""), inp)
        if absent:
            notes.append(f"{absent} records without their video (--only-present-videos) are not counted as rejects")
    else:
        notes.append("no manifest.json: the share of rejected records is not checked")
    iv = profile.group("intervals")
    for label, g in iv.groupby("label") if not iv.empty else ():
        check(f"{label}.fraction_median", float(g["fraction"].median()), th.min_span_fraction_median,
              th.max_span_fraction_median, f"median {label} length / duration", len(g))
        check(f"{label}.whole_video_share", float((g["fraction"] >= 0.98).mean()), None, th.max_whole_video_share,
              f"share of {label} covering the whole video", len(g))
    answers = profile.group("answers")
    for task, g in answers.groupby("task") if not answers.empty else ():
        top = g["answer_index"].value_counts(normalize=True)
        check(f"{task}.answer_top_share", float(top.iloc[0]), None, th.max_answer_share,
              f"share of the most common answer position ({task})", len(g))
    return CheckTable(DATASET, tuple(exps), key=DATASET), pd.DataFrame([row]), notes
