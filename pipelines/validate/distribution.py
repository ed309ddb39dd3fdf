"""Whole-dataset checks that catch a broken adapter: every row can be valid and the set still wrong.

A units slip (frames read as seconds) clips most spans to the video's end; an adapter that always
puts the answer first makes one letter win; a parser that chokes rejects most records. These are
shares over the dataset, checked against thresholds a person can override (`--set NAME=VALUE`).

Small datasets are judged too, without crying wolf: below `min_rows` rows a share fails only when the
low end of its 95% interval (Wilson's) is above the threshold, so 4 rejected of 5 fails (the low end is
0.38 against 0.25) while 1 of 3 does not; a run whose every record was rejected fails at any size.
Medians are not judged below `min_rows` (a note says so). A failing check says its value, the threshold
and the `--set` option that changes it.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import pandas as pd

from pipelines.report.profile import DatasetProfile
from pipelines.validate.spec import CheckTable, Expect, between
from pipelines.validate.suite import POLICY_REPAIRS
from pipelines.validate.thresholds import Thresholds

__all__ = ["DATASET", "Thresholds", "dataset_checks", "share_low"]

DATASET = "dataset"
Z95 = 1.959964  # the normal quantile of a two-sided 95% interval


def share_low(count: int, n: int, z: float = Z95) -> float:
    """The lower end of the Wilson score interval for the share count / n (0 when n is 0)."""
    if n <= 0:
        return 0.0
    p = count / n
    centre = p + z * z / (2 * n)
    margin = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, (centre - margin) / (1 + z * z / n))


def dataset_checks(profile: DatasetProfile, manifest: Mapping[str, Any] | None, th: Thresholds) -> tuple[CheckTable, pd.DataFrame, list[str]]:
    """(the check table, its one-row frame, notes on what was not checked or how)."""
    row: dict[str, Any] = {DATASET: "all"}
    exps: list[Expect] = []
    notes: list[str] = []

    def share(column: str, count: int, n: int, option: str, about: str, all_fail: bool = False) -> None:
        """count of n must not exceed the threshold `option`; judged by its interval's low end on few rows."""
        if n == 0:
            return  # nothing to judge (an empty input is refused before validation)
        limit = getattr(th, option)
        value = count / n
        said = f"{value:.2%} of {n:,}"
        if n < th.min_rows and not (all_fail and count == n):
            value = share_low(count, n)
            said += f", at least {value:.2%} at 95% confidence on fewer than min_rows={th.min_rows}"
        row[column] = value
        exps.append(between(column, None, limit, about=f"{about}: {said} (max {limit}; --set {option}=...)"))

    def median(column: str, value: float, n: int, low: str, high: str, about: str) -> None:
        if n < th.min_rows:
            notes.append(f"{column} not checked: {n} rows, fewer than min_rows={th.min_rows}")
            return
        lo, hi = getattr(th, low), getattr(th, high)
        row[column] = value
        exps.append(between(column, lo, hi, about=f"{about}: {value:.3f} (allowed [{lo}, {hi}]; "
                                                  f"--set {low}=... / {high}=...)"))

    written = sum(profile.counts.get("task", {}).values())
    repaired = profile.counts.get("policy_repaired", {}).get("rows", 0)
    share("repaired_share", repaired, written, "max_repaired_share",
          "share of rows whose labels the repair policy changed (clipped spans)")
    for reason, n in sorted(profile.counts.get("repairs", {}).items()):
        if reason not in POLICY_REPAIRS:
            notes.append(f"{n} of {written} rows ({n / max(written, 1):.0%}) carry the adapter's assumption {reason}")
    counts = (manifest or {}).get("counts")
    if counts:
        absent = counts.get("video_absent", 0)  # --only-present-videos: records not asked for
        share("rejected_share", counts.get("rejected", 0) - absent, counts.get("input", 0) - absent,
              "max_rejected_share", "share of input records rejected"
              + (" (records without their video left out)" if absent else ""), all_fail=True)
        if absent:
            notes.append(f"{absent} records without their video (--only-present-videos) are not counted as rejects")
    else:
        notes.append("no manifest.json: the share of rejected records is not checked")
    iv = profile.group("intervals")
    for label, g in iv.groupby("label") if not iv.empty else ():
        median(f"{label}.fraction_median", float(g["fraction"].median()), len(g), "min_span_fraction_median",
               "max_span_fraction_median", f"median {label} length / duration")
        share(f"{label}.whole_video_share", int((g["fraction"] >= 0.98).sum()), len(g), "max_whole_video_share",
              f"share of {label} covering the whole video")
    answers = profile.group("answers")
    for task, g in answers.groupby("task") if not answers.empty else ():
        top = int(g["answer_index"].value_counts().iloc[0])
        share(f"{task}.answer_top_share", top, len(g), "max_answer_share",
              f"share of the most common answer position ({task})")
    return CheckTable(DATASET, tuple(exps), key=DATASET), pd.DataFrame([row]), notes
