"""Lettered options ("(A) text", "A. text") and letter answers ("(C)", "<answer>C</answer>").

vrft stores option texts without letters (the prompt adds them) and the answer as an index.
"""

from __future__ import annotations

import re
import string

from pipelines.sources.base import Rejected

_LETTERED = re.compile(r"^\s*\(?([A-Z])\s*[\).:]\s*(.*)$", re.S)
_ANSWER_TAG = re.compile(r"<answer>(.*?)</answer>", re.S | re.I)
_LETTER = re.compile(r"^\s*\(?([A-Z])\)?\s*[.:]?\s*$")


def strip_letters(options: list[str]) -> list[str]:
    """Option texts without their letters; the letters must run A, B, C... in order."""
    texts = []
    for i, opt in enumerate(options):
        m = _LETTERED.match(opt) if isinstance(opt, str) else None
        if not m or m.group(1) != string.ascii_uppercase[i]:
            raise Rejected("options_unlettered", f"option {i} is {opt!r}, expected it to start with {string.ascii_uppercase[i]}")
        texts.append(m.group(2))
    return texts


def letter_index(answer: str, n_options: int) -> int:
    """The index of a letter answer, also inside <answer></answer>; anything else is a reject."""
    tagged = _ANSWER_TAG.search(answer or "")
    m = _LETTER.match(tagged.group(1) if tagged else (answer or ""))
    if not m:
        raise Rejected("answer_not_a_letter", f"answer {answer!r} is not an option letter")
    index = string.ascii_uppercase.index(m.group(1))
    if index >= n_options:
        raise Rejected("answer_index_out_of_range", f"answer {m.group(1)} with {n_options} options")
    return index
