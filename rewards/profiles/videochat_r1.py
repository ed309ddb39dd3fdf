"""The `videochat-r1` profile: the reference's reward values exactly, quirks included.

Rules (docs/reference.md, "Rewards as the reference computes them"), re-implemented from their semantics:
- format (grounding, tracking, video QA): the stripped text fully matches <think>.*?</think>\\s*<answer>.*?</answer>
  (so two answer blocks still pass); grounded QA adds \\s*<glue>.*?</glue> and a valid glue list;
  tracking adds an answer that is a Python list of 8 lists of 4.
- grounding IoU: the LAST answer block, in it the LAST "N (to|and) N"; IoU in seconds, not clipped.
- grounded-QA IoU: the FIRST glue block if valid; merged interval sets; empty union scores 1.
- accuracy: the FIRST answer block; known phrases removed; the first capital A-G anywhere in it.
- tracking IoU: newlines removed, the FIRST answer block, mean IoU over all 8 boxes, inverted boxes
  not clamped, any error scores 0.

Where the reference would backtrack for minutes on a hostile completion (lazy groups under fullmatch,
nested quantifiers over long digit runs), these functions give the same answers in linear time. Two
deliberate departures: a zero-union grounding IoU scores 0 (the reference crashes), and a non-finite
tracking IoU (from literals such as 1e999) scores 0 (the reference returns NaN).
"""

from __future__ import annotations

import ast
import math
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping

import numpy as np

from rewards.iou import merged_overlap
from rewards.profiles import Admitted, Read, Truth, TruthRefused, register_profile
from schemas import FORMAT, AnswerPart, Task, check_labels, option_letter
from schemas.labels.choice import LETTERS
from schemas.registry import Registry
from schemas.repairs import RepairPolicy
from schemas.violation import is_number

# --- blocks --------------------------------------------------------------------------------------


def first_block(text: str, tag: str) -> str | None:
    """re.search(r"<tag>(.*?)</tag>", text, re.DOTALL).group(1), in linear time."""
    op, cl = f"<{tag}>", f"</{tag}>"
    i = text.find(op)
    if i < 0:
        return None
    j = text.find(cl, i + len(op))
    return None if j < 0 else text[i + len(op) : j]


_ANSWER_BLOCKS = re.compile(r"<answer>(.*?)</answer>", re.DOTALL)


def last_answer_block(text: str) -> str | None:
    """re.findall(r"<answer>(.*?)</answer>", text, re.DOTALL)[-1]. Cutting the text after its last
    closing tag leaves every opening tag a closing one to find, which keeps findall linear."""
    end = text.rfind("</answer>")
    if end < 0:
        return None
    blocks = _ANSWER_BLOCKS.findall(text, 0, end + len("</answer>"))
    return blocks[-1] if blocks else None


# --- format --------------------------------------------------------------------------------------

_THINK_ANSWER = re.compile(r"</think>\s*<answer>")
_ANSWER_GLUE = re.compile(r"</answer>\s*<glue>")


def fullmatch_think_answer(s: str) -> bool:
    """re.fullmatch(r"<think>.*?</think>\\s*<answer>.*?</answer>", s, re.DOTALL) is not None."""
    if not (s.startswith("<think>") and s.endswith("</answer>")):
        return False
    m = _THINK_ANSWER.search(s, len("<think>"))
    return m is not None and m.end() <= len(s) - len("</answer>")


def fullmatch_think_answer_glue(s: str) -> bool:
    """Same for <think>.*?</think>\\s*<answer>.*?</answer>\\s*<glue>.*?</glue>: some answer opening
    must come no later than some answer closing that leads into a glue block ending the text."""
    if not (s.startswith("<think>") and s.endswith("</glue>")):
        return False
    first = _THINK_ANSWER.search(s, len("<think>"))
    if first is None:
        return False
    limit = len(s) - len("</glue>")
    return any(m.end() <= limit for m in _ANSWER_GLUE.finditer(s, first.end()))


# --- grounding -----------------------------------------------------------------------------------

# The reference's r"(\d+\.?\d*) (to|and) (\d+\.?\d*)" (IGNORECASE). Backtracking inside a number can
# never end it before a space, so possessive quantifiers and starting only at the head of a digit
# run find exactly the same matches, without the cubic cost on long digit runs.
_SPAN_WORDS = re.compile(r"(?<!\d)(\d++\.?+\d*+) (to|and) (\d++\.?+\d*+)", re.IGNORECASE)


def grounding_iou(pred: tuple[float, float] | None, truth: Truth) -> float:
    if pred is None:
        return 0.0
    (ps, pe), span = pred, truth["span"]
    s, e = float(span["start"]), float(span["end"])
    inter = max(0.0, min(pe, e) - max(ps, s))
    union = max(pe, e) - min(ps, s)
    return inter / union if union > 0 else 0.0


def grounding_prediction(completion: str) -> tuple[float, float] | None:
    block = last_answer_block(completion)
    if block is None:
        return None
    lowered = block.lower()
    if " to " not in lowered and " and " not in lowered:  # every match has one: skip the scan
        return None
    matches = _SPAN_WORDS.findall(block)
    if not matches:
        return None
    start, _, end = matches[-1]
    return float(start), float(end)


# --- grounded QA ---------------------------------------------------------------------------------

_GLUE_SHAPE = re.compile(
    r"^\[(\(\d+(\.\d+)?,\s*\d+(\.\d+)?\)(,\s*\(\d+(\.\d+)?,\s*\d+(\.\d+)?\))*(,)?|)\]$"
)
# Characters Python's literal parser accepts among those the shape allows (probed: ASCII digits,
# and of the whitespace only space, tab, newline, carriage return and form feed).
_LITERAL_CHARS = frozenset("0123456789.,()[] \t\n\r\f")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def _number_literal(token: str) -> int | float:
    if "." in token:
        return float(token)
    if len(token) > 1 and token[0] == "0" and token.strip("0"):
        raise SyntaxError("leading zeros in decimal integer literals are not permitted")
    return int(token)


def parse_glue(glue: str) -> list[tuple[Any, Any]] | None:
    """The reference's is_valid_two_d_list_format + ast.literal_eval: a list of (a, b), a <= b."""
    if not _GLUE_SHAPE.match(glue) or not _LITERAL_CHARS.issuperset(glue):
        return None
    try:
        nums = [_number_literal(t) for t in _NUMBER.findall(glue)]
    except SyntaxError:
        return None
    except ValueError:  # an integer too long for int(): let Python's own literal parser decide
        try:
            nums = [x for pair in ast.literal_eval(glue) for x in pair]
        except Exception:
            return None
    pairs = list(zip(nums[::2], nums[1::2]))
    return None if any(a > b for a, b in pairs) else pairs


def reference_merge(intervals: Iterable[tuple[Any, Any]]) -> list[list[Any]]:
    """The reference's merge: sorted by start alone (a stable sort), an interval joins the last merged one
    when it starts no later than that one ends. Unlike `rewards.iou.merge_intervals` it keeps empty and
    inverted intervals, so an inverted truth span counts with its negative length, as there."""
    out: list[list[Any]] = []
    for start, end in sorted(intervals, key=lambda iv: iv[0]):
        if out and start <= out[-1][1]:
            out[-1][1] = max(out[-1][1], end)
        else:
            out.append([start, end])
    return out


def glue_iou(pred: list[tuple[Any, Any]], truth_spans: list[tuple[float, float]]) -> float:
    """Merged-set IoU as the reference computes it: an empty union scores 1 (its quirk)."""
    inter, union = merged_overlap(pred, truth_spans, merge=reference_merge)
    return 1.0 if union == 0 else inter / union


def _truth_glue(truth: Truth) -> list[tuple[float, float]]:
    return [(s["start"], s["end"]) for s in truth["spans"]]


# --- accuracy ------------------------------------------------------------------------------------

_PHRASES = (
    "The best answer is",
    "The correct answer is",
    "The answer is",
    "The answer",
    "The best option is",
    "The correct option is",
    "Best answer:Best option:",  # the reference's list lacks a comma here, so the two are joined
)
_LETTER = re.compile("[ABCDEFG]")


def answer_letter(text: str) -> str:
    """The reference's letter extraction. Its ">10 words and no letter" rule changes nothing: both
    branches give "" exactly when no capital A-G is left."""
    s = text.strip()
    for phrase in _PHRASES:
        s = s.replace(phrase, "")
    m = _LETTER.search(s)
    return m.group(0) if m else ""


def accuracy(completion: str, truth: Truth) -> tuple[float, str]:
    """(the reference's accuracy, the letter it read from the first answer block; "" when none)."""
    block = first_block(completion, "answer")
    if block is None:
        return 0.0, ""
    letter = answer_letter(block)
    return (1.0 if letter == answer_letter(option_letter(truth["answer_index"])) else 0.0), letter


# --- tracking ------------------------------------------------------------------------------------

_FAST_NUM = r"[ \t]*-?(?:[0-9]+\.[0-9]*|\.[0-9]+|[1-9][0-9]*|0+)[ \t]*"
_FAST_BOX = rf"\[{_FAST_NUM},{_FAST_NUM},{_FAST_NUM},{_FAST_NUM}\]"
_FAST_TRACK = re.compile(rf"[ \t]*\[(?:[ \t]*{_FAST_BOX}[ \t]*,){{7}}[ \t]*{_FAST_BOX}[ \t]*\][ \t]*")
_FAST_TOKEN = re.compile(r"-?(?:[0-9]+\.[0-9]*|\.[0-9]+|[0-9]+)")


# Python's tokenizer refuses more than this many brackets open at once ("too many nested parentheses"), so
# ast.literal_eval fails on any text nested deeper: no parser needs to see it.
LITERAL_MAX_DEPTH = 200
_BRACKET_STEP = np.zeros(256, dtype=np.int8)
_BRACKET_STEP[list(b"[({")] = 1
_BRACKET_STEP[list(b"])}")] = -1
_BLANK = np.zeros(256, dtype=bool)
_BLANK[[c for c in range(128) if chr(c).isspace()]] = True


def _not_eight_elements(s: str) -> bool:
    """True when `s` surely is not a Python list of 8 items, decided without Python's parser (which
    costs seconds on a megabyte), in one pass: only for text without quotes or comments, where brackets
    cannot hide inside strings. Nested deeper than Python's parser allows, it is no literal at all;
    otherwise the outer list's items are the commas at depth 1 plus one (a trailing comma allowed).
    False means: ask the parser."""
    t = s.strip(" \t")
    if not (t.startswith("[") and t.endswith("]")) or any(q in t for q in "'\"#"):
        return False
    code = np.frombuffer(t.encode("utf-8"), dtype=np.uint8)  # brackets, commas and blanks are ASCII
    depth = np.cumsum(_BRACKET_STEP[code], dtype=np.int64)  # [n] depth after each byte
    if depth.max() > LITERAL_MAX_DEPTH:
        return True
    if depth[-1] != 0 or depth[:-1].min() < 1:
        return False  # unbalanced, or the outer list closes early: let the parser say so
    separators = np.flatnonzero((code == ord(",")) & (depth == 1))
    bounds = np.concatenate(([0], separators, [len(code) - 1]))  # the outer brackets and the top-level commas
    filled = np.concatenate(([0], np.cumsum(~_BLANK[code])))  # non-blank bytes before each position
    sizes = filled[bounds[1:]] - filled[bounds[:-1] + 1]  # non-blank bytes inside each item
    if len(sizes) and sizes[-1] == 0:
        sizes = sizes[:-1]  # a trailing comma (or an empty list)
    return len(sizes) != 8 and bool((sizes > 0).all())


def parse_track(answer: str) -> list[list[Any]] | None:
    """The reference's is_valid_list_of_lists + ast.literal_eval: a list of 8 lists of length 4
    (values unchecked). Plain numeric answers skip the Python parser; text that surely is no such
    list (or nests deeper than the parser allows) never reaches it; anything else goes to it."""
    s = answer.replace("\n", "")
    if _FAST_TRACK.fullmatch(s):
        try:
            vals = [float(t) if "." in t else int(t) for t in _FAST_TOKEN.findall(s)]
            return [vals[i : i + 4] for i in range(0, 32, 4)]
        except ValueError:
            pass  # an integer too long for int(): the literal parser below decides
    elif _not_eight_elements(s):
        return None
    try:
        data = ast.literal_eval(s)
    except Exception:
        return None
    if not isinstance(data, list) or len(data) != 8:
        return None
    if not all(isinstance(el, list) and len(el) == 4 for el in data):
        return None
    return data


def _reference_box_iou(b1: list[Any], b2: list[Any]) -> float:
    x0_1, y0_1, x1_1, y1_1 = b1
    x0_2, y0_2, x1_2, y1_2 = b2
    iw = max(0, min(x1_1, x1_2) - max(x0_1, x0_2))
    ih = max(0, min(y1_1, y1_2) - max(y0_1, y0_2))
    inter = iw * ih
    union = (x1_1 - x0_1) * (y1_1 - y0_1) + (x1_2 - x0_2) * (y1_2 - y0_2) - inter
    return 0.0 if union == 0 else inter / union


def track_iou(pred: list[list[Any]], truth: Truth) -> float:
    gt = [[b["x0"], b["y0"], b["x1"], b["y1"]] for b in truth["boxes"]]
    if len(pred) != len(gt):
        return 0.0
    try:
        value = float(np.mean([_reference_box_iou(p, g) for p, g in zip(pred, gt)]))
    except Exception:
        return 0.0
    return value if math.isfinite(value) else 0.0


# --- one reading per task ------------------------------------------------------------------------
# Each reads a completion once into its component values and its predictions (answer tag -> value as
# the reference reads it, None when unreadable), so scoring and evaluation share one pass.

Reading = tuple[dict[str, float], dict[str, Any]]


def _read_grounding(text: str, truth: Truth) -> Reading:
    pred = grounding_prediction(text)
    return {FORMAT: float(fullmatch_think_answer(text.strip())), "iou": grounding_iou(pred, truth)}, {"answer": pred}


def _choice_index(letter: str, truth: Truth) -> int | None:
    idx = ord(letter) - ord("A") if letter else None
    return idx if idx is not None and idx < len(truth["choices"]) else None


def _read_grounded_qa(text: str, truth: Truth) -> Reading:
    glue = first_block(text, "glue")
    pairs = parse_glue(glue) if glue is not None else None
    fmt = fullmatch_think_answer_glue(text.strip()) and pairs is not None
    acc, letter = accuracy(text, truth)
    scores = {FORMAT: float(fmt), "accuracy": acc, "iou": glue_iou(pairs, _truth_glue(truth)) if pairs is not None else 0.0}
    glue_pred = None if pairs is None else [(float(a), float(b)) for a, b in pairs]
    return scores, {"answer": _choice_index(letter, truth), "glue": glue_pred}


def _read_video_qa(text: str, truth: Truth) -> Reading:
    acc, letter = accuracy(text, truth)
    return {FORMAT: float(fullmatch_think_answer(text.strip())), "accuracy": acc}, {"answer": _choice_index(letter, truth)}


def _read_tracking(text: str, truth: Truth) -> Reading:
    # the reference reads the track for its IoU with newlines removed before the block is found, and for
    # its format from the block as written; the two blocks differ only when a newline splits a tag
    block = first_block(text.replace("\n", ""), "answer")
    track = parse_track(block) if block is not None else None
    fmt = 0.0
    if fullmatch_think_answer(text.strip()):
        written = first_block(text, "answer")
        if written is not None:
            same = written.replace("\n", "") == block
            fmt = float((track if same else parse_track(written)) is not None)
    scores = {FORMAT: fmt, "iou": track_iou(track, truth) if track is not None else 0.0}
    return scores, {"answer": _numeric_track(track)}


def _numeric_track(track: list[list[Any]] | None) -> list[tuple[float, ...]] | None:
    if track is None:
        return None
    try:
        return [tuple(float(v) for v in box) for box in track]
    except (TypeError, ValueError, OverflowError):
        return None


# --- what the reference reads of a truth --------------------------------------------------------
# Each returns why the reference could not read the truth (None when it can): it reads numbers where
# its rule needs them and checks nothing else, so an inverted span or a zero-width box is scored.


def _numbers(value: Any, keys: tuple[str, ...]) -> bool:
    return isinstance(value, Mapping) and all(is_number(value.get(k)) for k in keys)


def _unread_span(truth: Truth) -> str | None:
    return None if _numbers(truth.get("span"), ("start", "end")) else "no span with a numeric start and end"


def _unread_spans(truth: Truth) -> str | None:
    spans = truth.get("spans")
    ok = isinstance(spans, (list, tuple)) and all(_numbers(s, ("start", "end")) for s in spans)
    return None if ok else "no list of spans with numeric starts and ends"


def _unread_choice(truth: Truth) -> str | None:
    index = truth.get("answer_index")
    ok = isinstance(truth.get("choices"), (list, tuple)) and isinstance(index, int) and not isinstance(index, bool)
    return None if ok and 0 <= index < len(LETTERS) else "no options with an answer index that has a letter"


def _unread_boxes(truth: Truth) -> str | None:
    boxes = truth.get("boxes")
    ok = isinstance(boxes, (list, tuple)) and all(_numbers(b, ("x0", "y0", "x1", "y1")) for b in boxes)
    return None if ok else "no list of boxes with numeric x0, y0, x1, y1"


@dataclass(frozen=True)
class Rule:
    """The reference's reward for one task: the components it gives, how a completion is read and what
    of the truth it needs to read."""

    task: str
    components: tuple[str, ...]
    read: Callable[[str, Truth], Reading]
    needs: tuple[Callable[[Truth], str | None], ...]


_RULES: Registry[Rule] = Registry("videochat-r1 rule for task")
for _rule in (
    Rule("temporal_grounding", (FORMAT, "iou"), _read_grounding, (_unread_span,)),
    Rule("grounded_qa", (FORMAT, "accuracy", "iou"), _read_grounded_qa, (_unread_choice, _unread_spans)),
    Rule("video_qa", (FORMAT, "accuracy"), _read_video_qa, (_unread_choice,)),
    Rule("tracking", (FORMAT, "iou"), _read_tracking, (_unread_boxes,)),
):
    _RULES.add(_rule.task, _rule)


# --- the profile ---------------------------------------------------------------------------------


class VideoChatR1Profile:
    name = "videochat-r1"
    include_given = True

    def claims(self, task: Task) -> bool:
        return task.name in _RULES.names()

    def can_score(self, task: Task, part: AnswerPart) -> bool:
        return self.claims(task) and part.component in _RULES.get(task.name).components

    def _read(self, task: Task, completion: str, truth: Truth) -> Reading:
        if not self.claims(task):
            raise KeyError(f"the videochat-r1 profile has no rule for task {task.name!r}; use the default profile")
        return _RULES.get(task.name).read(completion if isinstance(completion, str) else "", truth)

    def score(self, task: Task, completion: str, truth: Truth) -> dict[str, float]:
        return self._read(task, completion, truth)[0]

    def read(self, task: Task, completion: str, truth: Truth) -> Read:
        """Predictions as the reference reads them (for evaluation with this profile's parsing)."""
        scores, preds = self._read(task, completion, truth)
        return Read(preds, scores[FORMAT] == 1.0)

    def admit(self, task: Task, truth: Truth, policy: RepairPolicy) -> Admitted:
        """Every truth the reference can read, as published (no repair): what the task's checks refuse
        (a span ending past the video, an inverted span, a zero-width box) comes back as warnings."""
        if not self.claims(task):
            raise TruthRefused(f"the videochat-r1 profile has no rule for task {task.name!r}")
        violations = [str(v) for v in check_labels(task, truth)]
        unread = [why for need in _RULES.get(task.name).needs if (why := need(truth)) is not None]
        if unread:
            raise TruthRefused("; ".join(violations) or "; ".join(unread))
        return Admitted(dict(truth), warnings=tuple(violations))


register_profile(VideoChatR1Profile())
