"""Reading a completion against a task's answer contract (the `default` profile), in linear time.

Tags are located with `str.find` only (no regular expressions over the whole text), so a hostile
megabyte costs a few memchr passes. A tag's content is usable only when that tag occurs exactly
once, opened before closed, and its block does not overlap another contract block: two <answer>
blocks, or an answer hidden inside <think>, earn nothing.
"""

from __future__ import annotations

from typing import NamedTuple

THINK = "think"


class Reading(NamedTuple):
    contents: dict[str, str]   # tag -> content, only for tags usable as defined above
    well_formed: bool          # the whole text is exactly the expected blocks, whitespace between


def read_contract(text: str, tags: tuple[str, ...], think: bool) -> Reading:
    """Find the blocks of `tags` (plus <think>) and decide whether `text` follows the contract exactly."""
    blocks = []  # (start, end, tag): the block's outer extent
    candidates = []
    for tag in (THINK, *tags):
        op, cl = f"<{tag}>", f"</{tag}>"
        i = text.find(op)
        j = text.find(cl)  # the first closing tag must follow the first opening one
        if i >= 0 and j >= i + len(op):
            candidates.append((i, j + len(cl), tag, op, cl))
    # Each tag must occur once. When the text has no '<' but those of the candidates, that holds
    # already; otherwise look for a second opening or closing tag.
    sure = text.count("<") == 2 * len(candidates)
    for i, end, tag, op, cl in candidates:
        if sure or (text.find(op, i + 1) < 0 and text.find(cl, end) < 0):
            blocks.append((i, end, tag))
    blocks.sort()
    bad = set()
    for (_, end, a), (start, _, b) in zip(blocks, blocks[1:]):
        if start < end:  # overlapping blocks, e.g. an answer inside the thinking
            bad.update((a, b))
    contents = {tag: text[s + len(tag) + 2 : e - len(tag) - 3] for s, e, tag in blocks if tag not in bad and tag != THINK}
    expected = (THINK, *tags) if think else tags
    well_formed = not bad and len(blocks) == len(expected) and all(b[2] == t for b, t in zip(blocks, expected))
    if well_formed:
        cursor = 0
        for s, e, _ in blocks:
            if not text[cursor:s].isspace() and s > cursor:
                well_formed = False
                break
            cursor = e
        well_formed = well_formed and (cursor == len(text) or text[cursor:].isspace())
    return Reading(contents, well_formed)
