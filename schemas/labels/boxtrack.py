"""BoxTrack: an object's boxes over time, {t, x0, y0, x1, y1}, t in seconds, coordinates in [0, 1]."""

from __future__ import annotations

from typing import Any, Mapping

import pyarrow as pa

from schemas.label_type import LabelType, register_label_type
from schemas.violation import Violation, is_number

BOX_TYPE = pa.struct(
    [("t", pa.float64()), ("x0", pa.float64()), ("y0", pa.float64()), ("x1", pa.float64()), ("y1", pa.float64())]
)


def check_box(box: Any, column: str) -> list[Violation]:
    """Violations of one normalized box (time not included)."""
    if not isinstance(box, Mapping):
        return [Violation("box_missing", column, f"expected {{t, x0, y0, x1, y1}}, got {type(box).__name__}")]
    coords = [box.get(k) for k in ("x0", "y0", "x1", "y1")]
    if not all(is_number(c) for c in coords):
        return [Violation("box_not_numeric", column, f"coordinates {coords}")]
    x0, y0, x1, y1 = coords
    out = []
    if min(coords) < 0 or max(coords) > 1:
        out.append(Violation("box_outside_frame", column, f"{coords} not inside [0, 1]"))
    if x0 >= x1 or y0 >= y1:
        out.append(Violation("box_inverted", column, f"need x0 < x1 and y0 < y1, got {coords}"))
    return out


def _check(row: Mapping[str, Any]) -> list[Violation]:
    boxes = row.get("boxes")
    if boxes is None or not isinstance(boxes, (list, tuple)):
        return [Violation("boxes_missing", "boxes", "the task needs a box track")]
    if len(boxes) < 2:
        return [Violation("boxes_too_few", "boxes", f"a track needs at least 2 boxes, got {len(boxes)}")]
    out: list[Violation] = []
    last_t = None
    duration = row.get("duration")
    for i, box in enumerate(boxes):
        col = f"boxes[{i}]"
        out.extend(check_box(box, col))
        t = box.get("t") if isinstance(box, Mapping) else None
        if not is_number(t) or t < 0:
            out.append(Violation("box_time_invalid", col, f"t={t!r}"))
            continue
        if last_t is not None and t <= last_t:
            out.append(Violation("box_time_not_ascending", col, f"t={t} after t={last_t}"))
        if is_number(duration) and duration > 0 and t > duration:
            out.append(Violation("box_time_past_end", col, f"t={t} > duration {duration}"))
        last_t = t
    return out


def format_box(box: Mapping[str, Any]) -> str:
    return "[" + ", ".join(f"{box[k]:.3f}" for k in ("x0", "y0", "x1", "y1")) + "]"


def _frame_times(row: Mapping[str, Any]) -> list[float] | None:
    boxes = row.get("boxes")
    if not isinstance(boxes, (list, tuple)) or not all(isinstance(b, Mapping) and "t" in b for b in boxes):
        return None
    return [b["t"] for b in boxes]


def _prompt_context(row: Mapping[str, Any]) -> dict[str, Any]:
    boxes = row["boxes"]
    return {"n_boxes": len(boxes), "first_box": format_box(boxes[0])}


BOXTRACK = register_label_type(
    LabelType(
        name="boxtrack",
        columns={"boxes": pa.list_(BOX_TYPE)},
        check=_check,
        answer_format=(
            "{n_boxes} boxes, one per frame in order, as [[x0, y0, x1, y1], ...] with coordinates"
            " as fractions (0 to 1) of the frame width and height"
        ),
        answer_example="[[0.12, 0.30, 0.45, 0.80], [0.14, 0.31, 0.47, 0.81], ...]",
        prompt_context=_prompt_context,
        frame_times=_frame_times,
        doc="Normalized boxes with their timestamps; the first box is given in the prompt.",
    )
)
