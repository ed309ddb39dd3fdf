"""The videochat-r1 profile reads a completion once: `read` (evaluation) and `score` (rewards) come from
the same pass, so their predictions and values agree, and each parser runs once per completion."""

from __future__ import annotations

import pytest

import rewards.profiles.videochat_r1 as ref
from schemas import get_task

QA_TRUTH = {"task": "grounded_qa", "choices": ["a", "b", "c", "d", "e"], "answer_index": 1, "duration": 10.0,
            "spans": [{"start": 1.0, "end": 3.0}, {"start": 4.0, "end": 6.0}]}
BOXES = [[0.1, 0.1, 0.5, 0.5]] * 8
TRACK_TRUTH = {"task": "tracking", "boxes": [{"t": float(i), "x0": 0.1, "y0": 0.1, "x1": 0.5, "y1": 0.5} for i in range(8)]}


@pytest.fixture
def calls(monkeypatch):
    """How many times each reference parser ran."""
    counts = {"parse_glue": 0, "parse_track": 0}

    def counted(name):
        real = getattr(ref, name)

        def wrapper(*args):
            counts[name] += 1
            return real(*args)
        monkeypatch.setattr(ref, name, wrapper)

    for name in counts:
        counted(name)
    return counts


def test_grounded_qa_read_and_score_agree_in_one_pass(calls):
    profile, task = ref.VideoChatR1Profile(), get_task("grounded_qa")
    text = "<think>x</think><answer>(B) because</answer><glue>[(1.5, 3), (4, 6.25)]</glue>"
    read = profile.read(task, text, QA_TRUTH)
    assert read.predictions == {"answer": 1, "glue": [(1.5, 3.0), (4.0, 6.25)]} and read.well_formed
    assert calls["parse_glue"] == 1
    # merged sets: intersection 1.5 + 2 = 3.5, union 2 + 2.25 = 4.25
    assert profile.score(task, text, QA_TRUTH) == {"format": 1.0, "accuracy": 1.0, "iou": pytest.approx(3.5 / 4.25)}
    assert calls["parse_glue"] == 2


def test_tracking_reads_the_track_once_and_keeps_the_newline_quirk(calls):
    profile, task = ref.VideoChatR1Profile(), get_task("tracking")
    text = f"<think>a</think><answer>{BOXES}</answer>"
    read = profile.read(task, text, TRACK_TRUTH)
    assert read.well_formed and read.predictions["answer"] == [tuple(b) for b in BOXES]
    assert calls["parse_track"] == 1
    # a newline inside the tag: the reference finds the block for the IoU (newlines removed first) but
    # not for the format (the block as written)
    split = f"<think>a</think><ans\nwer>{BOXES}</answer>"
    assert profile.score(task, split, TRACK_TRUTH) == {"format": 0.0, "iou": 1.0}
    assert not profile.read(task, split, TRACK_TRUTH).well_formed


def test_letters_beyond_the_options_are_not_predictions():
    profile, task = ref.VideoChatR1Profile(), get_task("video_qa")
    truth = {"task": "video_qa", "choices": ["a", "b"], "answer_index": 0}
    assert profile.read(task, "<think>t</think><answer>E</answer>", truth).predictions == {"answer": None}
    assert profile.read(task, "<think>t</think><answer>A</answer>", truth).predictions == {"answer": 0}
