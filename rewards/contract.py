"""Reading a completion against a task's answer contract (the `default` profile), in linear time.

Tags are located with `str.find`/`str.count` only (no regular expressions over the whole text), so a
hostile megabyte costs a few memchr passes. A tag's content is usable only when that tag occurs exactly
once, opened before closed, and its block does not overlap another contract block: two <answer>
blocks, or an answer hidden inside <think>, earn nothing.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

THINK = "think"


class Reading(NamedTuple):
    contents: dict[str, str]   # tag -> content, only for tags usable as defined above
    well_formed: bool          # the whole text is exactly the expected blocks, whitespace between


@lru_cache(maxsize=None)
def _marks(tags: tuple[str, ...]) -> tuple[tuple[str, str, str], ...]:
    return tuple((tag, f"<{tag}>", f"</{tag}>") for tag in (THINK, *tags))


def read_contract(text: str, tags: tuple[str, ...], think: bool) -> Reading:
    """Find the blocks of `tags` (plus <think>) and decide whether `text` follows the contract exactly."""
    candidates = []
    for tag, op, cl in _marks(tags):
        i = text.find(op)
        j = text.find(cl)  # the first closing tag must follow the first opening one
        if i >= 0 and j >= i + len(op):
            candidates.append((i, j + len(cl), tag, op))
    # Each tag must occur once. When the text has no '<' but those of the candidates, that holds
    # already; otherwise look for a second opening or closing tag.
    if text.count("<") != 2 * len(candidates):
        candidates = [c for c in candidates if text.find(c[3], c[0] + 1) < 0 and text.find("</" + c[3][1:], c[1]) < 0]
    candidates.sort()
    bad = set()
    reach, holder = -1, ""  # the furthest end of the blocks so far, and whose it is
    for start, end, tag, _ in candidates:
        if start < reach:  # inside or across an earlier block, e.g. an answer inside the thinking
            bad.update((holder, tag))
        if end > reach:
            reach, holder = end, tag
    contents = {
        tag: text[s + len(op) : e - len(op) - 1] for s, e, tag, op in candidates if tag not in bad and tag != THINK
    }
    expected = (THINK, *tags) if think else tags
    if bad or len(candidates) != len(expected) or any(c[2] != t for c, t in zip(candidates, expected)):
        return Reading(contents, False)
    cursor = 0
    for s, e, _, _ in candidates:
        if s > cursor and not text[cursor:s].isspace():
            return Reading(contents, False)
        cursor = e
    return Reading(contents, cursor == len(text) or text[cursor:].isspace())
