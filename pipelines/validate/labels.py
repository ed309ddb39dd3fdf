"""Per label type: how its columns flatten into check columns, what GX expects of them, what is profiled.

A registry keyed by label type name, like reward components: a new label type registers its checks
here or declares itself exempt (`LabelType.exempt["validation checks"]`); the start-up check
(`schemas.coverage`) refuses a task whose label type does neither. Check columns are named after the
shard column they come from ("span.end", "boxes.x1", "choices.count"), so a failure names the column a
person would look at.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

import schemas
from pipelines.validate.spec import Expect, between, greater, not_null
from schemas.coverage import Requirement, require
from schemas.registry import Registry

Frame = pd.DataFrame


@dataclass(frozen=True)
class LabelChecks:
    frame: Callable[[pa.Table], Frame]             # one task's sample rows -> check rows (with sample_id)
    expectations: Callable[[], tuple[Expect, ...]]
    profile: Callable[[Frame], Mapping[str, Frame]]  # check rows -> named groups of numbers for the report


def _arr(t: pa.Table, name: str) -> pa.Array:
    return t.column(name).combine_chunks()


def _num(a: pa.Array) -> np.ndarray:
    return pc.cast(a, pa.float64()).to_numpy(zero_copy_only=False)


def _explode(t: pa.Table, column: str) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """(flattened items, parent row of each, position of each inside its list)."""
    lists = _arr(t, column)
    parents = pc.list_parent_indices(lists).to_numpy(zero_copy_only=False)
    items = pc.list_flatten(lists)
    lengths = pc.fill_null(pc.list_value_length(lists), 0).to_numpy(zero_copy_only=False)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    return items, parents, np.arange(len(items)) - starts[parents] if len(items) else np.zeros(0, np.int64)


def _ids(t: pa.Table, rows: np.ndarray | None = None) -> dict[str, np.ndarray]:
    ids = np.asarray(_arr(t, "sample_id").to_pylist(), dtype=object)
    dur = _num(_arr(t, "duration"))
    return {"sample_id": ids if rows is None else ids[rows], "duration": dur if rows is None else dur[rows]}


def _interval_frame(t: pa.Table, column: str, items: pa.Array, rows: np.ndarray | None, index: np.ndarray | None) -> Frame:
    cols = _ids(t, rows)
    if index is not None:
        cols[f"{column}.index"] = index
    cols[f"{column}.start"] = _num(pc.struct_field(items, "start"))
    cols[f"{column}.end"] = _num(pc.struct_field(items, "end"))
    return pd.DataFrame(cols)


def _interval_expectations(column: str) -> tuple[Expect, ...]:
    s, e = f"{column}.start", f"{column}.end"
    return (
        not_null(s), not_null(e),
        between(s, 0.0, None, about=f"{s} >= 0"),
        greater(e, s, about=f"{column} has start < end"),
        greater("duration", e, or_equal=True, about=f"{column} ends inside the video (end <= duration)"),
    )


def _interval_profile(column: str, f: Frame) -> Mapping[str, Frame]:
    start, end, dur = f[f"{column}.start"], f[f"{column}.end"], f["duration"]
    return {"intervals": pd.DataFrame({
        "label": column, "length_s": end - start, "start_frac": start / dur, "end_frac": end / dur,
        "fraction": (end - start) / dur,
    }).dropna()}


def _span_frame(t: pa.Table) -> Frame:
    return _interval_frame(t, "span", _arr(t, "span"), None, None)


def _spans_frame(t: pa.Table) -> Frame:
    items, rows, index = _explode(t, "spans")
    return _interval_frame(t, "spans", items, rows, index)


def _boxes_frame(t: pa.Table) -> Frame:
    items, rows, index = _explode(t, "boxes")
    cols = _ids(t, rows)
    cols["boxes.index"] = index
    for k in ("t", "x0", "y0", "x1", "y1"):
        cols[f"boxes.{k}"] = _num(pc.struct_field(items, k))
    f = pd.DataFrame(cols)
    # time since the previous box of the same track (NaN for a track's first box)
    f["boxes.dt"] = f["boxes.t"].diff().where(f["boxes.index"] > 0)
    return f


def _boxes_expectations() -> tuple[Expect, ...]:
    coords = [f"boxes.{k}" for k in ("x0", "y0", "x1", "y1")]
    return (
        *(not_null(c) for c in ["boxes.t", *coords]),
        *(between(c, 0.0, 1.0, about=f"{c} inside the frame [0, 1]") for c in coords),
        greater("boxes.x1", "boxes.x0", about="box has x0 < x1"),
        greater("boxes.y1", "boxes.y0", about="box has y0 < y1"),
        between("boxes.t", 0.0, None, about="box time >= 0"),
        greater("duration", "boxes.t", or_equal=True, about="box time inside the video"),
        between("boxes.dt", 0.0, None, strict_low=True, about="box times ascending"),
    )


def _boxes_profile(f: Frame) -> Mapping[str, Frame]:
    w, h = f["boxes.x1"] - f["boxes.x0"], f["boxes.y1"] - f["boxes.y0"]
    cx, cy = (f["boxes.x0"] + f["boxes.x1"]) / 2, (f["boxes.y0"] + f["boxes.y1"]) / 2
    later = f["boxes.index"] > 0
    motion = np.hypot(cx.diff(), cy.diff()).where(later)
    return {"boxes": pd.DataFrame({"area": w * h, "aspect": w / h.where(h > 0), "motion": motion}).replace([np.inf], np.nan)}


def _choice_frame(t: pa.Table) -> Frame:
    cols = _ids(t)
    cols["choices.count"] = pc.list_value_length(_arr(t, "choices")).to_pandas()
    cols["answer_index"] = _arr(t, "answer_index").to_pandas()
    return pd.DataFrame(cols)


def _choice_expectations() -> tuple[Expect, ...]:
    return (
        not_null("answer_index"), not_null("choices.count"),
        between("choices.count", 2, None, about="at least two options"),
        between("answer_index", 0, None, about="answer_index >= 0"),
        greater("choices.count", "answer_index", about="answer_index inside its choices"),
    )


def _choice_profile(f: Frame) -> Mapping[str, Frame]:
    return {"answers": pd.DataFrame({"answer_index": f["answer_index"], "n_choices": f["choices.count"]}).dropna()}


_LABEL_CHECKS: Registry[LabelChecks] = Registry("validation checks for label type")


def register_label_checks(label: str, checks: LabelChecks) -> LabelChecks:
    return _LABEL_CHECKS.add(label, checks)


label_checks = _LABEL_CHECKS.get
unregister_label_checks = _LABEL_CHECKS.remove


def checks_of(label: schemas.LabelType) -> LabelChecks | None:
    """The label type's checks; None when it is exempt (the start-up check refuses any other gap)."""
    return None if VALIDATION in label.exempt else label_checks(label.name)


def _unchecked(task: schemas.Task, part: schemas.AnswerPart) -> str | None:
    return None if part.label in _LABEL_CHECKS.names() else "no validation checks (pipelines.validate.labels)"


VALIDATION = require(Requirement("validation checks", _unchecked)).name

register_label_checks("span", LabelChecks(_span_frame, lambda: _interval_expectations("span"),
                                          lambda f: _interval_profile("span", f)))
register_label_checks("spanset", LabelChecks(_spans_frame, lambda: _interval_expectations("spans"),
                                             lambda f: _interval_profile("spans", f)))
register_label_checks("boxtrack", LabelChecks(_boxes_frame, _boxes_expectations, _boxes_profile))
register_label_checks("choice", LabelChecks(_choice_frame, _choice_expectations, _choice_profile))
