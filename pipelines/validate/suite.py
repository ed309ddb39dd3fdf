"""The samples' check tables, generated from the task declarations, and the frames they run on.

For every declared task: its required columns present (the base columns, each label column, the
duration when a label is checked against it), every row passing the declaration's own record check
(`schemas.check_record`, which covers label types without column checks), and one table per label
type from the `labels` registry (exempt label types are left to the record check). Across tasks: known
task names, sample ids unique over the whole dataset, every sample's video present in videos/.
"""

from __future__ import annotations

from typing import Collection

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

import schemas
from schemas.repairs import SPAN_END_CLIPPED, SPAN_START_CLIPPED
from pipelines.validate.labels import checks_of
from pipelines.report.profile import DatasetProfile
from pipelines.validate.spec import CheckTable, in_set, not_null
from schemas.checks import BASE_REQUIRED

SAMPLES = "samples"
DECLARED = "declared_check"      # the violations schemas.check_record finds, "" when none
DUPLICATED = "sample_id.duplicated"
IN_VIDEOS = "video_key.in_videos"
# Repairs the repair policy makes to labels (a broken adapter makes many); other recorded repairs are
# assumptions an adapter states for a whole format (e.g. box_times_assumed) and are reported, not judged.
POLICY_REPAIRS = frozenset({SPAN_START_CLIPPED, SPAN_END_CLIPPED})


def required_columns(task: schemas.Task) -> tuple[str, ...]:
    extra = ("duration",) if task.needs_duration else ()
    return (*BASE_REQUIRED, *task.label_columns, *extra)


def sample_tables(with_videos: bool) -> list[CheckTable]:
    """Every check table of the samples: one across tasks, then per task and per (task, label type)."""
    names = [t.name for t in schemas.tasks()]
    common = [not_null("sample_id"), in_set("task", names, "task is a declared task"),
              in_set(DUPLICATED, [False], "sample_id is unique across the dataset")]
    if with_videos:
        common.append(in_set(IN_VIDEOS, [True], "the sample's video is in videos/"))
    out = [CheckTable(SAMPLES, tuple(common))]
    for task in schemas.tasks():
        exps = [not_null(c, f"{task.name} needs {c}") for c in required_columns(task)]
        exps.append(in_set(DECLARED, [""], f"rows pass the {task.name} declaration's record check"))
        out.append(CheckTable(task.name, tuple(exps)))
        for lt in task.labels:
            checks = checks_of(lt)
            if checks is not None:
                out.append(CheckTable(f"{task.name}.{lt.name}", checks.expectations()))
    return out


def _present(t: pa.Table, column: str) -> pd.Series:
    """The column where it is a scalar; for nested columns "present" or None (GX checks nulls only)."""
    col = t.column(column)
    if pa.types.is_nested(col.type):
        return pd.Series(np.where(pc.is_valid(col).to_numpy(zero_copy_only=False), "present", None), dtype=object)
    return col.to_pandas()


def _declared(t: pa.Table) -> list[str]:
    return ["; ".join(str(v) for v in schemas.check_record(row)) for row in t.to_pylist()]


def sample_frames(
    t: pa.Table, duplicated: Collection[str], video_keys: Collection[str] | None, profile: DatasetProfile
) -> dict[str, pd.DataFrame]:
    """Check frames (by check table name) of one batch of `samples` rows; feeds the profile too."""
    ids = t.column("sample_id").to_pylist()
    common = {"sample_id": ids, "task": t.column("task").to_pylist(), DUPLICATED: [i in duplicated for i in ids]}
    if video_keys is not None:
        common[IN_VIDEOS] = [k in video_keys for k in t.column("video_key").to_pylist()]
    frames = {SAMPLES: pd.DataFrame(common)}
    profile.count("task", common["task"])
    profile.count("dataset", t.column("dataset").to_pylist())
    repairs = [set(r or ()) for r in t.column("repairs").to_pylist()]
    profile.count("repairs", [x for r in repairs for x in r])
    profile.count("policy_repaired", ["rows" for r in repairs if r & POLICY_REPAIRS])
    tasks = pc.unique(t.column("task")).to_pylist()
    for task in schemas.tasks():
        if task.name not in tasks:
            continue
        rows = t.filter(pc.equal(t.column("task"), task.name))
        f = pd.DataFrame({c: _present(rows, c) for c in dict.fromkeys(("sample_id", *required_columns(task)))})
        f[DECLARED] = _declared(rows)
        frames[task.name] = f
        for lt in task.labels:
            checks = checks_of(lt)
            if checks is not None:
                lf = checks.frame(rows)
                frames[f"{task.name}.{lt.name}"] = lf
                profile.add({k: g.assign(task=task.name) for k, g in checks.profile(lf).items()})
        durations = rows.select(["video_key", "duration"]).to_pandas().drop_duplicates("video_key")
        profile.add({"sample_durations": durations[["duration"]].dropna()})
    return frames
