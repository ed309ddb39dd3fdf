"""The videochat-r1 tracking reward on deeply nested answers: the reference's values, no parser past its limit.

The reference reads a track with `ast.literal_eval`, which refuses text nested deeper than Python's
tokenizer allows; vrft refuses such text before any parser (bench/rewards.py shows the time is linear
in the depth). These tests pin the bound to Python's own and the values to the reference's.
"""

from __future__ import annotations

import ast

import pytest

from rewards import score_one
from rewards.profiles.videochat_r1 import LITERAL_MAX_DEPTH, parse_track

BOX = "[0.1, 0.2, 0.3, 0.4]"
TRUTH = {"task": "tracking", "boxes": [{"t": i / 2, "x0": 0.1, "y0": 0.2, "x1": 0.3, "y1": 0.4} for i in range(8)]}


def reference_track(answer: str):
    """The reference's reading: a Python literal that is a list of 8 lists of 4, else None."""
    try:
        data = ast.literal_eval(answer)
    except Exception:
        return None
    ok = isinstance(data, list) and len(data) == 8 and all(isinstance(b, list) and len(b) == 4 for b in data)
    return data if ok else None


def test_the_bound_is_pythons_own():
    deepest = "[" * LITERAL_MAX_DEPTH + "]" * LITERAL_MAX_DEPTH
    assert ast.literal_eval(deepest) is not None             # the parser still reads this depth ...
    with pytest.raises(SyntaxError, match="too many nested parentheses"):
        ast.literal_eval("[" + deepest + "]")                # ... and refuses one more


def _nested_track(depth: int) -> str:
    """8 boxes whose first value sits in lists nested so that the whole answer is `depth` deep."""
    inner = "[" * (depth - 2) + "0.1" + "]" * (depth - 2)
    return "[" + ", ".join([f"[{inner}, 0.2, 0.3, 0.4]"] + [BOX] * 7) + "]"


@pytest.mark.parametrize("answer", [
    _nested_track(LITERAL_MAX_DEPTH),          # the deepest the reference reads: a list of 8 lists of 4
    _nested_track(LITERAL_MAX_DEPTH + 1),      # one deeper: the reference's parser refuses it
    "[" * 100_000 + "]" * 100_000,             # 0.5 s before, now no parser sees it
    "[(" * 50_000 + ")]" * 50_000,
    "[" * 100_000 + ", ".join([BOX] * 8) + "]" * 100_000,
    "[" + ", ".join([f"['{'[' * 5000}', 1, 2, 3]"] * 8) + "]",   # brackets inside strings: the parser decides
    "[" + ", ".join([BOX] * 8) + "]",
    "[" + ", ".join([BOX] * 7) + "]",
    "[" + ", ".join([BOX] * 8) + ",]",
    "[" + ", ".join([BOX] * 8) + ",,]",
    "[ , " + ", ".join([BOX] * 7) + "]",
    "[" + ", ".join([BOX] * 8) + "][0]",
], ids=lambda a: f"{len(a)}-chars-{a[:12]}")
def test_deep_answers_read_as_the_reference_reads_them(answer):
    assert parse_track(answer) == reference_track(answer)


def test_a_deep_answer_scores_as_an_unreadable_one():
    deep = "<think>t</think><answer>" + "[" * 1_000_000 + "]" * 1_000_000 + "</answer>"
    assert score_one("tracking", deep, TRUTH, "videochat-r1") == {"format": 0.0, "iou": 0.0, "total": 0.0}
    readable = f"<think>t</think><answer>{_nested_track(LITERAL_MAX_DEPTH)}</answer>"
    assert score_one("tracking", readable, TRUTH, "videochat-r1")["format"] == 1.0
