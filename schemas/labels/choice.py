"""Choice: option texts (no letters) and the index of the correct one."""

from __future__ import annotations

import string
from typing import Any, Mapping

import pyarrow as pa

from schemas.label_type import LabelType, register_label_type
from schemas.violation import Violation

LETTERS = string.ascii_uppercase


def option_letter(index: int) -> str:
    """0 -> "A"; options are shown as "(A) text"."""
    return LETTERS[index]


def normalize_option(text: str) -> str:
    """Case- and whitespace-insensitive form used to spot duplicate options."""
    return " ".join(text.split()).casefold()


def _check(row: Mapping[str, Any]) -> list[Violation]:
    choices, index = row.get("choices"), row.get("answer_index")
    out: list[Violation] = []
    if choices is None or not isinstance(choices, (list, tuple)):
        return [Violation("choices_missing", "choices", "the task needs answer options")]
    if len(choices) < 2:
        out.append(Violation("choices_too_few", "choices", f"need at least 2 options, got {len(choices)}"))
    if len(choices) > len(LETTERS):
        out.append(Violation("choices_too_many", "choices", f"at most {len(LETTERS)} options, got {len(choices)}"))
    for i, text in enumerate(choices):
        if not isinstance(text, str) or not text.strip():
            out.append(Violation("choice_empty", f"choices[{i}]", f"option {i} is empty"))
    if index is None or isinstance(index, bool) or not isinstance(index, int):
        out.append(Violation("answer_index_missing", "answer_index", f"got {index!r}"))
    elif not 0 <= index < len(choices):
        out.append(Violation("answer_index_out_of_range", "answer_index", f"{index} not in [0, {len(choices)})"))
    elif isinstance(choices[index], str):
        key = normalize_option(choices[index])
        twins = [i for i, t in enumerate(choices) if isinstance(t, str) and normalize_option(t) == key]
        if len(twins) > 1:
            out.append(Violation("answer_ambiguous", "choices", f"the answer's text appears as options {twins}"))
    return out


def _prompt_context(row: Mapping[str, Any]) -> dict[str, str]:
    return {"options": "\n".join(f"({option_letter(i)}) {t}" for i, t in enumerate(row["choices"]))}


CHOICE = register_label_type(
    LabelType(
        name="choice",
        columns={"choices": pa.list_(pa.string()), "answer_index": pa.int32()},
        check=_check,
        answer_format="only the letter of the correct option",
        answer_example="C",
        prompt_context=_prompt_context,
        doc="Multiple choice; the answer is an index into `choices`.",
    )
)
