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


def test_hostile_inputs_give_the_reference_answer():
    truth = _track(GT_BOXES)
    digits = "<think>" + "</think><answer>" * 20000 + "1" * 200_000 + "</answer>"
    assert score_one("temporal_grounding", digits, SPAN_TRUTH, "videochat-r1")["format"] == 1.0
    assert score_one("temporal_grounding", "<answer>" * 100_000, SPAN_TRUTH, "videochat-r1")["iou"] == 0.0
    long_glue = "<think>t</think><answer>C</answer><glue>[" + "(1, 2), " * 50_000 + "(3, 4)]</glue>"
    assert score_one("grounded_qa", long_glue, GQA_TRUTH, "videochat-r1")["format"] == 1.0
    assert score_one("tracking", "<think>" + "[" * 100_000, truth, "videochat-r1")["iou"] == 0.0


@pytest.mark.parametrize(
    "answer",
    ["[" + "[0.1, 0.2, 0.3, 0.4], " * 5000 + "]", "[[1,2,3,4]]*8", "[" + "[1, 2, 3, 4]," * 8 + "]",
     "[" + ",".join(["[1,[2,3],3,4]"] * 8) + "]", "[" + ",".join(["{1: 2, 3: 4}"] * 8) + "]", "[1,2,,3]", "[(1,2),3]",
     "[" * 500, "[]", "[ ]", "[x for x in y]", "[1, 2][0]", "['a,b', 1, 2, 3]", "[" + ",".join(["[1,2,3,4]"] * 9) + "]"],
)
def test_track_answers_are_read_as_pythons_literal_parser_reads_them(answer):
    from rewards.profiles.videochat_r1 import parse_track

    try:
        data = ast.literal_eval(answer)
        want = data if isinstance(data, list) and len(data) == 8 and all(isinstance(e, list) and len(e) == 4 for e in data) else None
    except Exception:
        want = None
    assert parse_track(answer) == want
