"""The `videochat-r1` profile reproduces the reference's rewards: docs/reference.md's examples, and a
differential test against a direct transcription of the reference's rules (backtracking regexes and
Python literals), which is exact but only safe on short strings."""

from __future__ import annotations

import ast
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rewards import score_one

SPAN_TRUTH = {"span": {"start": 1.8, "end": 9.4}, "duration": 30.0}
GQA_TRUTH = {"choices": list("abcde"), "answer_index": 2, "spans": [{"start": 13.8, "end": 29.8}], "duration": 90}


@pytest.mark.parametrize(
    "completion, iou, fmt",
    [
        ("<think>the person picks up shoes</think>\n<answer>2.00 to 10.67</answer>", 0.8343, 1),
        ("<answer>2.00 to 10.67</answer>", 0.8343, 0),
        ("<think>a</think><answer>The event happens from 3 and 8</answer>", 0.6579, 1),
        ("<think>a</think><answer>3-8</answer>", 0.0, 1),
        ("<think>a</think><answer>1 to 2</answer><answer>2.0 to 9.0</answer>", 0.9211, 1),
        # the LAST "N to N" of the last block: 5 to 9 (IoU 4 / 7.6), not 1 to 2
        ("<think>a</think><answer>1 to 2, or rather 5 to 9</answer>", 4 / 7.6, 1),
        ("<think>a</think>\n<answer>5 to 9</answer>\n<answer>no idea</answer>", 0.0, 1),  # the last block has none
        ("<think>a</answer>", 0.0, 0),                     # no thinking closed before an answer
    ],
)
def test_reference_grounding_examples(completion, iou, fmt):
    got = score_one("temporal_grounding", completion, SPAN_TRUTH, "videochat-r1")
    assert got["iou"] == pytest.approx(iou, abs=5e-5)
    assert got["format"] == fmt
    assert got["total"] == pytest.approx(iou + fmt, abs=5e-5)


@pytest.mark.parametrize(
    "completion, iou, fmt, acc",
    [
        ("<think>t</think><answer>(C) unwrap it</answer><glue>[(10.0, 20.0), (25, 30)]</glue>", 0.55, 1, 1),
        ("<think>t</think><answer>C</answer><glue>[[13.8, 29.8]]</glue>", 0.0, 0, 1),
        ("<think>t</think><answer>Dance.</answer><glue>[(13.8, 29.8)]</glue>", 1.0, 1, 0),
    ],
)
def test_reference_grounded_qa_examples(completion, iou, fmt, acc):
    got = score_one("grounded_qa", completion, GQA_TRUTH, "videochat-r1")
    assert (got["iou"], got["format"], got["accuracy"]) == (pytest.approx(iou), fmt, acc)


# The reference's quirks, pinned as examples (the differential tests below draw random cases).
@pytest.mark.parametrize(
    "glue, spans, iou, fmt",
    [
        ("[(5, 5)]", [(13.8, 29.8)], 0.0, 1),               # a == b is a valid pair (the check is a > b)
        ("[(13.8, 13.8), (13.8, 29.8)]", [(13.8, 29.8)], 1.0, 1),
        ("[(6, 5)]", [(13.8, 29.8)], 0.0, 0),               # a > b is not
        ("[]", [], 1.0, 1),                                 # empty union: IoU 1
        ("[]", [(4.0, 4.0)], 1.0, 1),                       # a zero-length truth is an empty union too
        ("[(1, 2)]", [], 0.0, 1),
        ("[]", [(13.8, 29.8)], 0.0, 1),
        ("[(10, 20)]", [(13.8, 29.8)], 6.2 / 19.8, 1),
        ("[(0, 1)]", [(0.5, 1.0)], 0.5, 1),                 # a union of exactly 1 s
        ("[(00, 5)]", [(13.8, 29.8)], 0.0, 1),              # 00 is a Python literal
        ("[(007, 9)]", [(13.8, 29.8)], 0.0, 0),             # 007 is not
        ("[(1" + "0" * 5000 + ", 2)]", [(13.8, 29.8)], 0.0, 0),  # nor an integer of 5000 digits
    ],
)
def test_reference_glue_quirks(glue, spans, iou, fmt):
    truth = {**GQA_TRUTH, "spans": [{"start": s, "end": e} for s, e in spans]}
    got = score_one("grounded_qa", f"<think>t</think><answer>C</answer><glue>{glue}</glue>", truth, "videochat-r1")
    assert got == {"format": fmt, "accuracy": 1.0, "iou": pytest.approx(iou), "total": pytest.approx(fmt + 1 + iou)}


@pytest.mark.parametrize(
    "completion",
    [
        "<think>t</think> x <answer>C</answer><glue>[]</glue>",                # text between the blocks
        "<think>t</answer><glue>[]</glue></think><answer>C</glue>",            # the junctions in the wrong order
        "<think>t</think><answer>C</answer><glue>[]</glue> x",
    ],
)
def test_reference_grounded_qa_format_needs_the_blocks_in_order(completion):
    assert score_one("grounded_qa", completion, {**GQA_TRUTH, "spans": []}, "videochat-r1")["format"] == 0.0


def test_reference_grounding_iou_on_short_unions():
    """A zero-length union scores 0 (the documented departure: the reference divides by zero)."""
    truth = {"span": {"start": 5.0, "end": 5.0}, "duration": 30.0}
    got = score_one("temporal_grounding", "<think>a</think><answer>5 to 5</answer>", truth, "videochat-r1")
    assert got == {"format": 1.0, "iou": 0.0, "total": 1.0}
    short = {"span": {"start": 1.8, "end": 2.2}, "duration": 30.0}  # a union under 1 s: 2 to 2.5 -> 0.2 / 0.7
    got = score_one("temporal_grounding", "<think>a</think><answer>2 to 2.5</answer>", short, "videochat-r1")
    assert got["iou"] == pytest.approx(0.2 / 0.7)


@pytest.mark.parametrize(
    "answer, acc",
    [("C", 1), ("The answer is C", 1), ("I pick (C)", 1), ("Because B is wrong, C", 0), ("c", 0), ("Dance.", 0),
     ("The best answer is: C", 1), ("none", 0), ("H", 0)],
)
def test_reference_reads_the_first_capital_a_to_g(answer, acc):
    got = score_one("video_qa", f"<think>t</think><answer>{answer}</answer>", GQA_TRUTH, "videochat-r1")
    assert got == {"format": 1.0, "accuracy": acc, "total": 1.0 + acc}


def _track(boxes):
    return {"boxes": [{"t": float(i), "x0": b[0], "y0": b[1], "x1": b[2], "y1": b[3]} for i, b in enumerate(boxes)]}


GT_BOXES = [
    [0.093, 0.0, 0.8, 0.797], [0.095, 0.0, 0.8, 0.79], [0.111, 0.093, 0.751, 0.963], [0.078, 0.008, 0.642, 0.875],
    [0.007, 0.003, 0.6, 0.9], [0.0, 0.0, 0.55, 0.9], [0.0, 0.05, 0.5, 0.92], [0.0, 0.1, 0.45, 0.95],
]


def test_reference_tracking_examples():
    truth = _track(GT_BOXES)
    exact = score_one("tracking", f"<think>x</think><answer>{GT_BOXES}</answer>", truth, "videochat-r1")
    assert exact == {"format": 1.0, "iou": 1.0, "total": 2.0}
    scaled = [[round(v * 1000) for v in b] for b in GT_BOXES]
    thousand = score_one("tracking", f"<think>x</think><answer>{scaled}</answer>", truth, "videochat-r1")
    assert thousand["format"] == 1.0 and thousand["iou"] < 1e-6  # parses, scores (almost) nothing
    copied = score_one("tracking", f"<think>x</think><answer>{[GT_BOXES[0]] * 8}</answer>", truth, "videochat-r1")
    expected = np.mean([_oracle_box_iou(GT_BOXES[0], g) for g in GT_BOXES])
    assert copied["iou"] == pytest.approx(expected, rel=1e-12) and 0 < copied["iou"] < 1


@pytest.mark.parametrize(
    "answer, gt, iou, fmt",
    [
        ([[0, 0, 1, 1]] * 8, [[0, 0, 1, 1]] * 8, 1.0, 1),                  # union exactly 1
        ([[0.2, 0.2, 0.2, 0.4]] * 8, [[0.2, 0.2, 0.2, 0.4]] * 8, 0.0, 1),  # zero-area pair: union 0 scores 0
        ([[0.5, 0.5, 0.1, 0.1]] * 8, [[0.1, 0.1, 0.5, 0.5]] * 8, 0.0, 1),   # an inverted box is an answer (format 1)
        ([["a", 0, 1, 1]] * 8, [[0, 0, 1, 1]] * 8, 0.0, 1),               # a Python list of 8 lists of 4: format 1
        ([[0, 0, 1, 1]] * 8, [[0, 0, 1, 1]] * 6, 0.0, 1),                  # 8 boxes for a 6-box truth score 0
        ([[0.2, 0.2, 0.2, 0.4]] + [[0, 0, 1, 1]] * 7, [[0.2, 0.2, 0.2, 0.4]] + [[0, 0, 1, 1]] * 7, 7 / 8, 1),
    ],
)
def test_reference_tracking_quirks(answer, gt, iou, fmt):
    got = score_one("tracking", f"<think>x</think><answer>{answer}</answer>", _track(gt), "videochat-r1")
    assert got == {"format": fmt, "iou": pytest.approx(iou), "total": pytest.approx(fmt + iou)}


def test_reference_tracking_removes_newlines_first():
    """Newlines go before anything is read: a tag or a number broken by one is read whole (format looks at
    the text as written, so a broken closing tag fails it)."""
    truth = _track(GT_BOXES)
    broken_tag = f"<think>x</think><answer>{GT_BOXES}</ans\nwer>"
    assert score_one("tracking", broken_tag, truth, "videochat-r1") == {"format": 0.0, "iou": 1.0, "total": 1.0}
    broken_number = f"<think>x</think><answer>{GT_BOXES}</answer>".replace("0.093", "0.0\n93", 1)
    assert score_one("tracking", broken_number, truth, "videochat-r1") == {"format": 1.0, "iou": 1.0, "total": 2.0}


def test_reference_non_finite_tracking_iou_scores_0():
    """The documented departure: the reference returns NaN on a literal such as 1e999."""
    answer = "[" + ", ".join(["[1e999, 0, 1e999, 1]"] * 8) + "]"  # inf - inf in the area: NaN
    got = score_one("tracking", f"<think>x</think><answer>{answer}</answer>", _track(GT_BOXES), "videochat-r1")
    assert got == {"format": 1.0, "iou": 0.0, "total": 1.0}


# --- what the profile reads (evaluation with --profile videochat-r1) -----------------------------


def _read(task, completion, truth):
    from rewards import get_profile
    from schemas import get_task

    return get_profile("videochat-r1").read(get_task(task), completion, truth)


def test_reference_reading_of_grounding():
    got = _read("temporal_grounding", "<think>a</think><answer>1 to 2, or rather 5 to 9.5</answer>", SPAN_TRUTH)
    assert got.predictions == {"answer": (5.0, 9.5)} and got.well_formed is True
    got = _read("temporal_grounding", "<answer>no idea</answer>", SPAN_TRUTH)
    assert got.predictions == {"answer": None} and got.well_formed is False
    assert _read("temporal_grounding", "3 to 4", SPAN_TRUTH).predictions == {"answer": None}


@pytest.mark.parametrize(
    "answer, glue, want_answer, want_glue",
    [
        ("(C) x", "[(1, 2), (3.5, 4)]", 2, [(1.0, 2.0), (3.5, 4.0)]),
        ("E", "[]", 4, []),                 # the fifth of five options
        ("G", "[(2, 1)]", None, None),      # a letter past the options; a glue with a > b
        ("F", "[(2, 2)]", None, [(2.0, 2.0)]),  # F: the sixth of five options; a == b is valid
        ("x", "[[1, 2]]", None, None),      # no capital A-G; a glue in the wrong shape
    ],
)
def test_reference_reading_of_grounded_qa(answer, glue, want_answer, want_glue):
    got = _read("grounded_qa", f"<think>t</think><answer>{answer}</answer><glue>{glue}</glue>", GQA_TRUTH)
    assert got.predictions == {"answer": want_answer, "glue": want_glue}
    assert got.well_formed is (want_glue is not None)


@pytest.mark.parametrize("task, truth", [("temporal_grounding", SPAN_TRUTH), ("grounded_qa", GQA_TRUTH),
                                         ("video_qa", GQA_TRUTH), ("tracking", _track(GT_BOXES))])
@pytest.mark.parametrize("completion", ["<think>nothing to say</think>", None])
def test_reference_reading_of_no_answer(task, truth, completion):
    from schemas import get_task

    got = _read(task, completion, truth)
    assert got.predictions == {p.tag: None for p in get_task(task).parts} and got.well_formed is False


def test_reference_reading_of_tracking():
    text = "<think>x</think><answer>[" + ",\n".join(str(b) for b in GT_BOXES) + "]</answer>"
    got = _read("tracking", text, _track(GT_BOXES))
    assert got.predictions == {"answer": [tuple(float(v) for v in b) for b in GT_BOXES]} and got.well_formed is True
    strings = "<think>x</think><answer>" + str([["a", 0, 1, 1]] * 8) + "</answer>"
    assert _read("tracking", strings, _track(GT_BOXES)).predictions == {"answer": None}
    assert _read("tracking", "<answer>[1, 2]</answer>", _track(GT_BOXES)).predictions == {"answer": None}
    broken_tag = _read("tracking", f"<think>x</think><answer>{GT_BOXES}</ans\nwer>", _track(GT_BOXES))
    assert broken_tag.predictions == got.predictions and broken_tag.well_formed is False  # newlines go first


def test_reference_reading_of_video_qa():
    assert _read("video_qa", "<think>t</think><answer>The answer is B</answer>", GQA_TRUTH).predictions == {"answer": 1}
    assert _read("video_qa", "<think>t</think><answer>none</answer>", GQA_TRUTH).predictions == {"answer": None}


# --- an exact transcription of the reference rules, used as the oracle ---------------------------


def _oracle_grounding(c, s, e):
    fmt = re.fullmatch(r"<think>.*?</think>\s*<answer>.*?</answer>", c.strip(), re.DOTALL) is not None
    blocks = re.findall(r"<answer>(.*?)</answer>", c, re.DOTALL)
    iou = 0.0
    if blocks:
        m = re.findall(r"(\d+\.?\d*) (to|and) (\d+\.?\d*)", blocks[-1], re.IGNORECASE)
        if m:
            a, b = float(m[-1][0]), float(m[-1][2])
            union = max(b, e) - min(a, s)
            iou = max(0, min(b, e) - max(a, s)) / union if union > 0 else 0.0
    return {"format": float(fmt), "iou": iou}


def _oracle_glue_valid(g):
    if not re.match(r"^\[(\(\d+(\.\d+)?,\s*\d+(\.\d+)?\)(,\s*\(\d+(\.\d+)?,\s*\d+(\.\d+)?\))*(,)?|)\]$", g):
        return False
    try:
        lst = ast.literal_eval(g)
    except Exception:
        return False
    return isinstance(lst, list) and all(
        isinstance(t, tuple) and len(t) == 2 and all(isinstance(x, (int, float)) for x in t) and t[0] <= t[1]
        for t in lst
    )


def _oracle_merge(iv):
    if not iv:
        return []
    iv = sorted([list(i) for i in iv], key=lambda x: x[0])
    out = [iv[0][:]]
    for cur in iv[1:]:
        if cur[0] <= out[-1][1]:
            out[-1][1] = max(out[-1][1], cur[1])
        else:
            out.append(cur[:])
    return out


def _oracle_glue_iou(a, b):
    a, b = _oracle_merge(a), _oracle_merge(b)
    la, lb = sum(e - s for s, e in a), sum(e - s for s, e in b)
    inter, i, j = 0, 0, 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if lo < hi:
            inter += hi - lo
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    union = la + lb - inter
    return 1.0 if union == 0 else inter / union


def _oracle_letter(s):
    s = s.strip()
    for p in ["The best answer is", "The correct answer is", "The answer is", "The answer",
              "The best option is", "The correct option is", "Best answer:" "Best option:"]:
        s = s.replace(p, "")
    if len(s.split()) > 10 and not re.search("[ABCDEFG]", s):
        return ""
    m = re.search(r"[ABCDEFG]", s)
    return m[0] if m else ""


def _oracle_gqa(c, letter, glue_truth):
    fmt = 0.0
    if re.fullmatch(r"<think>.*?</think>\s*<answer>.*?</answer>\s*<glue>.*?</glue>", c.strip(), re.DOTALL):
        g = re.search(r"<glue>(.*?)</glue>", c, re.DOTALL).group(1)
        fmt = float(_oracle_glue_valid(g))
    m = re.search(r"<glue>(.*?)</glue>", c, re.DOTALL)
    iou = _oracle_glue_iou(ast.literal_eval(m.group(1)), glue_truth) if m and _oracle_glue_valid(m.group(1)) else 0.0
    a = re.search(r"<answer>(.*?)</answer>", c, re.DOTALL)
    acc = float(bool(a) and _oracle_letter(a.group(1)) == _oracle_letter(letter))
    return {"format": fmt, "accuracy": acc, "iou": iou}


def _oracle_track_valid(s):
    try:
        d = ast.literal_eval(s.replace("\n", ""))
    except Exception:
        return False
    return isinstance(d, list) and len(d) == 8 and all(isinstance(x, list) and len(x) == 4 for x in d)


def _oracle_box_iou(b1, b2):
    ix = max(0, min(b1[2], b2[2]) - max(b1[0], b2[0]))
    iy = max(0, min(b1[3], b2[3]) - max(b1[1], b2[1]))
    inter = ix * iy
    union = (b1[2] - b1[0]) * (b1[3] - b1[1]) + (b2[2] - b2[0]) * (b2[3] - b2[1]) - inter
    return 0.0 if union == 0 else inter / union


def _oracle_tracking(c, gt):
    fmt = 0.0
    if re.fullmatch(r"<think>.*?</think>\s*<answer>.*?</answer>", c.strip(), re.DOTALL):
        fmt = float(_oracle_track_valid(re.search(r"<answer>(.*?)</answer>", c, re.DOTALL).group(1)))
    flat = c.replace("\n", "")
    m = re.search(r"<answer>(.*?)</answer>", flat, re.DOTALL)
    iou = 0.0
    if m and _oracle_track_valid(m.group(1)):
        try:
            iou = float(np.mean([_oracle_box_iou(p, g) for p, g in zip(ast.literal_eval(m.group(1)), gt)]))
        except Exception:
            iou = 0.0
    return {"format": fmt, "iou": iou}


# --- generated completions: fragments chosen to hit every rule's edges ----------------------------

TAGS = ["<think>", "</think>", "<answer>", "</answer>", "<glue>", "</glue>"]
TEXT = [" ", "\n", "\t", "\xa0", "  ", "a", "to", " to ", " and ", " AND ", "-", ".", "1", "2.5", "10", "3.",
        "007", "12.75", "٣", "(", ")", "[", "]", ",", ", ", "The answer is", "(C)", "C", "Dance", "B", "G", "x"]
completions = st.lists(st.sampled_from(TAGS + TEXT), max_size=14).map("".join)


NUMBERS = ["1", "2.5", "3.", "10", "007", "9.40", "1.2.3", "٣", "12"]
span_text = st.builds(
    lambda pre, a, w, b, post: pre + a + w + b + post,
    completions, st.sampled_from(NUMBERS), st.sampled_from([" to ", " and ", " TO ", " to  ", "-", " ", "to"]),
    st.sampled_from(NUMBERS), completions,
)
spans_text = st.lists(
    st.tuples(st.sampled_from(["1", "2.5", "13.8", "00", "01", "3.", "٣"]), st.sampled_from(["2", "9.4", "29.8", "30"])),
    max_size=3,
).map(lambda ps: "[" + ", ".join(f"({a},{' ' if i % 2 else ''}{b})" for i, (a, b) in enumerate(ps)) + "]")


@settings(max_examples=600, deadline=None)
@given(
    st.one_of(
        completions,
        st.builds(lambda a, b, tail: f"<think>{a}</think> <answer>{b}</answer>{tail}", completions,
                  st.one_of(span_text, completions), st.sampled_from(["", " ", "<answer>2 to 3</answer>", "x"])),
    )
)
def test_grounding_matches_reference_rules(c):
    got = score_one("temporal_grounding", c, SPAN_TRUTH, "videochat-r1")
    want = _oracle_grounding(c, 1.8, 9.4)
    assert got["format"] == want["format"]
    assert got["iou"] == pytest.approx(want["iou"], abs=1e-12)


@settings(max_examples=600, deadline=None)
@given(
    st.one_of(
        completions,
        st.builds(
            lambda t, a, g, tail: f"<think>{t}</think>\n<answer>{a}</answer> <glue>{g}</glue>{tail}",
            completions, completions, st.one_of(spans_text, completions), st.sampled_from(["", " ", "\n", "x"]),
        ),
    )
)
def test_grounded_qa_matches_reference_rules(c):
    got = score_one("grounded_qa", c, GQA_TRUTH, "videochat-r1")
    want = _oracle_gqa(c, "C", [[13.8, 29.8]])
    assert {k: got[k] for k in want} == pytest.approx(want, abs=1e-12)


VALUES = ["0.1", "0.5", "0.9", "1", "0", "0.45", "0.3", "01", "-0.2", "'a'", "None", "1e999", " 0.2", "00"]
box = st.one_of(
    st.lists(st.sampled_from(VALUES[:7]), min_size=4, max_size=4),
    st.lists(st.sampled_from(VALUES), min_size=3, max_size=5),
)
box_text = st.one_of(
    st.lists(st.lists(st.sampled_from(VALUES[:7]), min_size=4, max_size=4), min_size=8, max_size=8),
    st.lists(box, min_size=7, max_size=9),
).map(lambda bs: "[" + st_join(bs) + "]")


def st_join(bs):
    return ",\n".join("[" + ", ".join(b) + "]" for b in bs)


@settings(max_examples=500, deadline=None)
@given(st.builds(lambda t, a, tail: f"<think>{t}</think><answer>{a}</answer>{tail}", completions, box_text,
                 st.sampled_from(["", "\n", " x"])))
def test_tracking_matches_reference_rules(c):
    truth = _track(GT_BOXES)
    got = score_one("tracking", c, truth, "videochat-r1")
    want = _oracle_tracking(c, GT_BOXES)
    if want["iou"] != want["iou"] or want["iou"] in (float("inf"), float("-inf")):
        want["iou"] = 0.0  # documented departure: non-finite IoU scores 0
    assert {k: got[k] for k in want} == pytest.approx(want, abs=1e-12)


@pytest.mark.timeout(120)  # the hang guard of the linear-time promise (these take well under a second)
def test_hostile_inputs_give_the_reference_answer():
    truth = _track(GT_BOXES)
    digits = "<think>" + "</think><answer>" * 20000 + "1" * 200_000 + "</answer>"
    assert score_one("temporal_grounding", digits, SPAN_TRUTH, "videochat-r1")["format"] == 1.0
    assert score_one("temporal_grounding", "<answer>" * 100_000, SPAN_TRUTH, "videochat-r1")["iou"] == 0.0
    long_glue = "<think>t</think><answer>C</answer><glue>[" + "(1, 2), " * 50_000 + "(3, 4)]</glue>"
    assert score_one("grounded_qa", long_glue, GQA_TRUTH, "videochat-r1")["format"] == 1.0
    assert score_one("tracking", "<think>" + "[" * 100_000, truth, "videochat-r1")["iou"] == 0.0
    # a valid completion of a megabyte is read and scored: pred 2 to 10.67, truth 1.8 to 9.4
    big = "<think>" + "a " * 500_000 + "</think><answer>2.00 to 10.67</answer>"
    assert score_one("temporal_grounding", big, SPAN_TRUTH, "videochat-r1") == {
        "format": 1.0, "iou": pytest.approx(7.4 / 8.87), "total": pytest.approx(1 + 7.4 / 8.87)}
    # a closing tag followed by 50 000 opening ones: the last block is still found in linear time
    tail = "<think>a</think><answer>1 to 2</answer>" + "<answer>" * 50_000
    assert score_one("temporal_grounding", tail, SPAN_TRUTH, "videochat-r1") == {
        "format": 0.0, "iou": pytest.approx(0.2 / 8.4), "total": pytest.approx(0.2 / 8.4)}
    big_track = "<think>" + "a " * 500_000 + f"</think><answer>{GT_BOXES}</answer>"
    assert score_one("tracking", big_track, truth, "videochat-r1") == {"format": 1.0, "iou": 1.0, "total": 2.0}


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    "answer",
    ["[" + "[0.1, 0.2, 0.3, 0.4], " * 5000 + "]", "[[1,2,3,4]]*8", "[" + "[1, 2, 3, 4]," * 8 + "]",
     "[" + ",".join(["[1,[2,3],3,4]"] * 8) + "]", "[" + ",".join(["{1: 2, 3: 4}"] * 8) + "]", "[1,2,,3]", "[(1,2),3]",
     "[" * 500, "[]", "[ ]", "[x for x in y]", "[1, 2][0]", "['a,b', 1, 2, 3]", "[" + ",".join(["[1,2,3,4]"] * 9) + "]",
     "[" + ",".join(["['a', 1, 2, 3]"] * 8) + "]", "([" + ",".join(["[1,2,3,4]"] * 8) + "])",
     " \t[" + ",".join(["[1,2,3,4]"] * 8) + "] ", "[" + ",".join(["[1,2,3,4]"] * 8) + ",]", "[1,2,3,4,5,6,7,(8,9)]",
     "(" + ",".join(["[1,2,3,4]"] * 8) + ")"],
)
def test_track_answers_are_read_as_pythons_literal_parser_reads_them(answer):
    from rewards.profiles.videochat_r1 import parse_track

    try:
        data = ast.literal_eval(answer)
        want = data if isinstance(data, list) and len(data) == 8 and all(isinstance(e, list) and len(e) == 4 for e in data) else None
    except Exception:
        want = None
    assert parse_track(answer) == want
