"""Draft -> normalized `samples` row: whitespace, repairs by policy, a content-derived id, then the task's checks.

Everything here is generic: what counts as an interval (to clip, `schemas.repairs`) or a text (to tidy)
is read from the Arrow types of the columns that the label types declare, so a new task needs no change here.
A row that still breaks its task's contract after the repairs raises `Rejected` with the violation
codes as the reason ("+"-joined when several), so `rejected_by_reason` sums to `rejected`.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from typing import Any, Callable, Mapping

import pyarrow as pa

import schemas
from schemas.repairs import RepairPolicy, repair_labels
from schemas.violation import is_number

from pipelines.sources.base import Draft, RawRecord, Rejected

IDENTITY_COLUMNS = ("sample_id", "task", "dataset", "split", "video_key", "source_file", "source_key")
NOT_CONTENT = ("sample_id", "dataset", "split", "duration", "source_file", "source_key", "repairs")


@lru_cache(maxsize=1)
def _columns() -> tuple[dict[str, Callable[[Any], Any]], tuple[str, ...]]:
    """(converter by column, text columns) of `samples`."""
    schema = schemas.samples_schema()
    types = {f.name: f.type for f in schema}
    converters = {name: converter(typ, name) for name, typ in types.items()}
    texts = tuple(
        n for n, t in types.items()
        if (t == pa.string() and n not in IDENTITY_COLUMNS) or t == pa.list_(pa.string()) and n != "repairs"
    )
    return converters, texts


@lru_cache(maxsize=1)
def _content_columns() -> tuple[str, ...]:
    return tuple(n for n in schemas.samples_schema().names if n not in NOT_CONTENT)


def tidy(text: Any) -> Any:
    """Runs of whitespace -> one space, ends stripped (non-strings pass through to the checks)."""
    return " ".join(text.split()) if isinstance(text, str) else text


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:20]


def _canonical(value: Any) -> Any:
    """A value as the id sees it: numbers as floats (3 and 3.0 are one label), text tidied."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        return tidy(value)
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    return str(value)


def content_id(dataset: str, draft: Draft) -> str:
    """The id of a drafted record from what it says: its dataset and its content columns (task, video,
    query, labels: every `samples` column but the provenance, split, duration and repairs). Not where it
    sits in its file, nor its neighbours, nor what side files joined to it: the same record keeps its id
    in a subset, a reordered file or another split file. Identical records share it (the writer keeps
    the first and rejects the others as `duplicate_record`)."""
    body = {name: _canonical(draft.get(name)) for name in _content_columns()}
    return _digest(dataset, json.dumps(body, sort_keys=True, ensure_ascii=False, default=str))


def record_id(rec: RawRecord) -> str:
    """The id of a record that could not be drafted: its dataset and the record as found (no position)."""
    return _digest(rec.dataset, json.dumps(rec.raw, sort_keys=True, ensure_ascii=False, default=str))


def id_of(rec: RawRecord, draft: Draft | None = None) -> str:
    """The sample id a record has (or would have had): its own, for pre-normalized input, else the
    hash of its content (of the record as found when it has no draft)."""
    if draft is None:
        return record_id(rec)
    given = draft.get("sample_id")
    return given.strip() if isinstance(given, str) and given.strip() else content_id(rec.dataset, draft)


def converter(typ: pa.DataType, column: str) -> Callable[[Any], Any]:
    """A function giving a value in the column's Arrow type (struct fields exactly as declared), or a reject."""

    def bad(value: Any) -> Any:
        raise Rejected("column_type_invalid", f"{column}: {value!r} is not {typ}")

    if pa.types.is_struct(typ):
        fields = [(f.name, converter(f.type, column)) for f in typ]
        return lambda v: None if v is None else (
            {name: conv(v.get(name)) for name, conv in fields} if isinstance(v, Mapping) else bad(v)
        )
    if pa.types.is_list(typ):
        item = converter(typ.value_type, column)
        return lambda v: None if v is None else ([item(x) for x in v] if isinstance(v, (list, tuple)) else bad(v))
    if pa.types.is_floating(typ):
        return lambda v: None if v is None else (float(v) if is_number(v) else bad(v))
    if pa.types.is_integer(typ):
        return lambda v: v if v is None or (isinstance(v, int) and not isinstance(v, bool)) else bad(v)
    if pa.types.is_string(typ):
        return lambda v: v if v is None or isinstance(v, str) else bad(v)
    return lambda v: v


def _number_or_none(value: Any) -> Any:
    """Durations arrive as ints, floats or numeric strings; anything else is left for the checks."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return float(value) if is_number(value) else value


def normalize(
    draft: Draft, rec: RawRecord, policy: RepairPolicy, probed_duration: float | None = None, given_id: str | None = None
) -> dict[str, Any]:
    """The `samples` row of a draft, or `Rejected`. With frames, the probed duration is the one used.
    `given_id`: the sample id when the caller already has it (`id_of(rec, draft)`, a hash of the record)."""
    converters, texts = _columns()
    row: dict[str, Any] = {name: draft.get(name) for name in converters}
    row["dataset"] = draft.get("dataset") or rec.dataset
    row["split"] = draft.get("split") or rec.split
    row["sample_id"] = given_id if given_id is not None else id_of(rec, draft)
    row["source_file"], row["source_key"] = rec.source_file, rec.source_key
    for col in IDENTITY_COLUMNS:
        row[col] = row[col].strip() if isinstance(row[col], str) else row[col]
    for col in texts:
        value = row[col]
        row[col] = [tidy(v) for v in value] if isinstance(value, (list, tuple)) else tidy(value)
    row["duration"] = _number_or_none(probed_duration if probed_duration is not None else row["duration"])

    row, clipped = repair_labels(row, policy)
    row["repairs"] = list(dict.fromkeys(list(draft.get("repairs") or []) + clipped))  # the adapter's assumptions first

    violations = schemas.check_record(row)
    if violations:
        codes = "+".join(dict.fromkeys(v.code for v in violations))
        raise Rejected(codes, "; ".join(str(v) for v in violations))
    return {name: conv(row[name]) for name, conv in converters.items()}
