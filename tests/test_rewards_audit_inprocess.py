"""The degenerate-policy audit (`rewards.audit`) called in-process on a few hand-made truths: which
policies each task gets, the exact text each writes, and the audit's means, all worked out by hand
(a whole-video span's IoU is the truth's length over the duration; a copied or centred box's IoU is
its overlap area over the union). The CLI tests (test_rewards_audit.py) check the same on real data."""

from __future__ import annotations

import re

import pytest

from rewards.audit import answers, audit, most_frequent, policies, well_formed

ABCDE = list("abcde")

# temporal grounding: whole-video IoU 10/40 = 0.25 and 15/30 = 0.5, mean 0.375
TG = [{"duration": 40.0, "span": {"start": 10.0, "end": 20.0}},
      {"duration": 30.0, "span": {"start": 0.0, "end": 15.0}}]
# grounded QA: right letters C, C, A; whole-video evidence IoU 5/20, 5/10, 20/40 (two segments), mean 1.25/3
QA = [{"choices": ABCDE, "answer_index": 2, "duration": 20.0, "spans": [{"start": 5.0, "end": 10.0}]},
      {"choices": ABCDE, "answer_index": 2, "duration": 10.0, "spans": [{"start": 0.0, "end": 5.0}]},
      {"choices": ABCDE, "answer_index": 0, "duration": 40.0,
       "spans": [{"start": 0.0, "end": 10.0}, {"start": 20.0, "end": 30.0}]}]
# video QA: C, C, and a yes/no question whose answer is A (it has no C: the most frequent letter is unreadable there)
VQA = [{"choices": ABCDE, "answer_index": 2}, {"choices": ABCDE, "answer_index": 2},
       {"choices": ["yes", "no"], "answer_index": 0}]


def _box(x0, y0, x1, y1):
    return {"x0": x0, "y0": y0, "x1": x1, "y1": y1}


# tracking, first box given (never scored). Copying it: frames 1.0 and 0.125/0.25 (track 1), 0 (track 2).
# The centre box (0.25, 0.25, 0.75, 0.75): 0.0625/0.4375 = 1/7 against a corner quarter, 0 against the strip.
TRACK = [{"boxes": [_box(0, 0, .5, .5), _box(0, 0, .5, .5), _box(0, 0, .5, .25)]},
         {"boxes": [_box(0, 0, .5, .5), _box(.5, .5, 1, 1)]}]

CORNER = "[0.000, 0.000, 0.500, 0.500]"
CENTRE = "[0.250, 0.250, 0.750, 0.750]"


def test_policies_per_task_in_order():
    """Letter policies only where a part is a choice, one floor policy per floor name, then random and the
    three form policies; the form policies that break the contract on purpose are marked so."""
    forms = [("empty-think", True), ("answer-in-think", False), ("format-only", False)]
    got = {t: [(p.name, p.well_formed) for p in policies(t)]
           for t in ("temporal_grounding", "grounded_qa", "tracking", "video_qa")}
    assert got == {
        "temporal_grounding": [("whole-video", True), ("random", True)] + forms,
        "grounded_qa": [("constant-letter", True), ("most-frequent-letter", True), ("whole-video", True),
                        ("random", True)] + forms,
        "tracking": [("copy-first-box", True), ("random", True)] + forms,
        "video_qa": [("constant-letter", True), ("most-frequent-letter", True), ("random", True)] + forms,
    }
    assert well_formed("temporal_grounding") == {"oracle", "whole-video", "random", "empty-think"}


def test_most_frequent_letter_takes_the_lowest_on_a_tie():
    assert most_frequent("video_qa", VQA) == {"answer": 2}
    tie = [{"choices": ABCDE, "answer_index": k} for k in (3, 1, 3, 1, 4)]
    assert most_frequent("grounded_qa", tie) == {"answer": 1}
    assert most_frequent("video_qa", []) == {"answer": 0}  # no data: option A
    assert most_frequent("temporal_grounding", TG) == {}  # no choice part: nothing to count


def test_the_text_each_policy_writes():
    """Each content policy fills the parts it knows and gives the others the lazy default (floor, else A),
    in the thinking contract with the thought "lazy"; the form policies write that default badly."""
    got = answers("grounded_qa", QA)
    glues = ["[(0.00, 20.00)]", "[(0.00, 10.00)]", "[(0.00, 40.00)]"]
    assert got["oracle"] == ["<think>...</think><answer>C</answer><glue>[(5.00, 10.00)]</glue>",
                             "<think>...</think><answer>C</answer><glue>[(0.00, 5.00)]</glue>",
                             "<think>...</think><answer>A</answer><glue>[(0.00, 10.00), (20.00, 30.00)]</glue>"]
    for name, letter in (("constant-letter", "A"), ("most-frequent-letter", "C"), ("whole-video", "A")):
        assert got[name] == [f"<think>lazy</think><answer>{letter}</answer><glue>{g}</glue>" for g in glues], name
    assert got["empty-think"] == [f"<think></think><answer>A</answer><glue>{g}</glue>" for g in glues]
    assert got["answer-in-think"] == [f"<think><answer>A</answer><glue>{g}</glue></think>" for g in glues]
    assert got["format-only"] == ["<think>lazy</think><answer></answer><glue></glue>"] * 3
    assert list(got) == ["oracle", "constant-letter", "most-frequent-letter", "whole-video", "random",
                         "empty-think", "answer-in-think", "format-only"]

    track = answers("tracking", TRACK)
    assert track["copy-first-box"] == [f"<think>lazy</think><answer>[{CORNER}, {CORNER}, {CORNER}]</answer>",
                                       f"<think>lazy</think><answer>[{CORNER}, {CORNER}]</answer>"]
    assert track["random"] == [f"<think>lazy</think><answer>[{CENTRE}, {CENTRE}, {CENTRE}]</answer>",
                               f"<think>lazy</think><answer>[{CENTRE}, {CENTRE}]</answer>"]

    tg = answers("temporal_grounding", TG)
    assert tg["whole-video"] == ["<think>lazy</think><answer>0.00 to 40.00</answer>",
                                 "<think>lazy</think><answer>0.00 to 30.00</answer>"]
    # the lazy default of a choice is A on every question, never a drawn letter
    assert answers("video_qa", VQA * 4)["empty-think"] == ["<think></think><answer>A</answer>"] * 12


def _spans(texts):
    return [tuple(map(float, re.fullmatch(r"<think>lazy</think><answer>(\S+) to (\S+)</answer>", t).groups()))
            for t in texts]


def test_random_guesses_are_seeded_and_stay_inside_the_video():
    truths = TG * 3
    drawn = answers("temporal_grounding", truths, 3)["random"]
    assert answers("temporal_grounding", truths, 3)["random"] == drawn
    assert answers("temporal_grounding", truths, 4)["random"] != drawn
    assert answers("temporal_grounding", truths) == answers("temporal_grounding", truths, 0)  # the CLI's default
    for (s, e), t in zip(_spans(drawn), truths):
        assert 0.0 <= s < e <= t["duration"]
    assert len(set(_spans(drawn))) == len(truths)  # drawn per question, not one guess copied
    letters = answers("video_qa", VQA * 4, 3)["random"]
    assert {re.search(r"<answer>(.)</answer>", t).group(1) for t in letters} - set("ABCDE") == set()


def test_answers_keep_the_thinking_contract_whatever_the_truth_says():
    no_think = [{**t, "think": False} for t in TG]
    assert answers("temporal_grounding", no_think)["oracle"] == ["<think>...</think><answer>10.00 to 20.00</answer>",
                                                                 "<think>...</think><answer>0.00 to 15.00</answer>"]
    row = audit("temporal_grounding", no_think, "default")
    assert row["oracle"] == {"format": 1.0, "iou": 1.0, "total": 2.0, "unparsed": 0.0}
    assert row["whole-video"] == {"format": 1.0, "iou": 0.375, "total": 1.375, "unparsed": 0.0}


NOTHING = {"format": 0.0, "iou": 0.0, "total": 0.0, "unparsed": 100.0}


def test_audit_means_per_policy():
    """Per policy: the mean of each component, of the total, and the percent of answers with an unread part."""
    tg = audit("temporal_grounding", TG, "default")
    assert tg["whole-video"] == tg["empty-think"] == {"format": 1.0, "iou": 0.375, "total": 1.375, "unparsed": 0.0}
    assert tg["answer-in-think"] == tg["format-only"] == NOTHING  # by default: nothing outside the contract
    assert tg["oracle"] == {"format": 1.0, "iou": 1.0, "total": 2.0, "unparsed": 0.0}
    ref = audit("temporal_grounding", TG, "videochat-r1")  # the reference reads inside the thinking, pays empty tags
    assert ref["answer-in-think"] == {"format": 0.0, "iou": 0.375, "total": 0.375, "unparsed": 0.0}
    assert ref["format-only"] == {"format": 1.0, "iou": 0.0, "total": 1.0, "unparsed": 100.0}

    qa = audit("grounded_qa", QA, "default")
    iou = 1.25 / 3
    assert qa["constant-letter"] == pytest.approx(
        {"format": 1.0, "accuracy": 1 / 3, "iou": iou, "total": 1 + 1 / 3 + iou, "unparsed": 0.0})
    assert qa["most-frequent-letter"] == pytest.approx(
        {"format": 1.0, "accuracy": 2 / 3, "iou": iou, "total": 1 + 2 / 3 + iou, "unparsed": 0.0})
    assert qa["whole-video"] == qa["empty-think"] == qa["constant-letter"]
    assert qa["format-only"] == {**NOTHING, "accuracy": 0.0}

    track = audit("tracking", TRACK, "default")
    assert track["copy-first-box"] == {"format": 1.0, "iou": 0.375, "total": 1.375, "unparsed": 0.0}
    assert track["random"] == pytest.approx({"format": 1.0, "iou": 3 / 28, "total": 1 + 3 / 28, "unparsed": 0.0})

    vqa = audit("video_qa", VQA, "default")  # C is no answer to the yes/no question: 1 of 3 unread
    assert vqa["most-frequent-letter"] == pytest.approx(
        {"format": 2 / 3, "accuracy": 2 / 3, "total": 4 / 3, "unparsed": 100 / 3})
    assert vqa["constant-letter"] == pytest.approx({"format": 1.0, "accuracy": 1 / 3, "total": 4 / 3, "unparsed": 0.0})
    assert list(vqa) == ["oracle", "constant-letter", "most-frequent-letter", "random",
                         "empty-think", "answer-in-think", "format-only"]


def _iou(a, b):
    inter = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    return inter / (max(a[1], b[1]) - min(a[0], b[0]))


def test_audit_scores_the_guesses_of_its_seed():
    """The random row is the mean IoU of the spans drawn with the audit's seed (the default: 0)."""
    truths = TG * 2
    for seed in (5, 0):
        spans = _spans(answers("temporal_grounding", truths, seed)["random"])
        mean = sum(_iou(p, (t["span"]["start"], t["span"]["end"])) for p, t in zip(spans, truths)) / len(truths)
        assert audit("temporal_grounding", truths, "default", seed)["random"]["iou"] == pytest.approx(mean, abs=1e-12)
    assert audit("temporal_grounding", truths, "default") == audit("temporal_grounding", truths, "default", 0)


def test_audit_of_one_truth_and_of_none():
    one = audit("temporal_grounding", TG[:1], "default")
    assert one["whole-video"] == {"format": 1.0, "iou": 0.25, "total": 1.25, "unparsed": 0.0}
    assert audit("video_qa", [], "default")["oracle"] == {"format": 0.0, "accuracy": 0.0, "total": 0.0, "unparsed": 0.0}
