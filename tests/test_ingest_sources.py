"""Adapters on hand-written inputs: parsing, answer matching, frame choice, registry, media lookup."""

from __future__ import annotations

import json

import pytest

from pipelines.sources import Rejected, SourceOptions, adapter_names, get_adapter, register_adapter
from pipelines.sources.base import Adapter, split_from_name
from pipelines.sources.got10k import pick_frames, visible_frames
from pipelines.sources.letters import letter_index, strip_letters
from pipelines.sources.nextgqa import answer_index
from pipelines.video.media import VideoFile, find_video


def drafts(name: str, *paths, **opts) -> list:
    """(record, draft or reject reason) for every record the adapter reads."""
    adapter = get_adapter(name)
    out = []
    for rec in adapter.read(SourceOptions(tuple(str(p) for p in paths), **opts)):
        try:
            out.append((rec, adapter.draft(rec)))
        except Rejected as r:
            out.append((rec, r.reason))
    return out


def test_registry_knows_every_format_and_refuses_unknown_or_duplicate_names():
    assert set(adapter_names()) == {
        "charades-sta", "activitynet-captions", "nextgqa", "nextqa", "got10k", "videochat-r1", "timezero",
        "video-r1", "jsonl",
    }
    with pytest.raises(KeyError, match=r"unknown dataset 'kinetics'; known: .*'activitynet-captions'"):
        get_adapter("kinetics")
    with pytest.raises(ValueError, match="already registered"):
        register_adapter(Adapter("jsonl", get_adapter("jsonl").read, get_adapter("jsonl").draft))


@pytest.mark.parametrize("name,split", [
    ("data/charades_sta_train.txt", "train"), ("val_2.json", "val_2"), ("charades_test_ood.json", "test_ood"),
    ("GOT-10k/val/", "val"), ("mine.jsonl", "mine"),
])
def test_split_comes_from_the_file_name(name, split):
    assert split_from_name(name, None) == split
    assert split_from_name(name, "custom") == "custom"


def test_videos_are_found_as_given_with_an_extension_or_by_name(tmp_path):
    (tmp_path / "0101").mkdir()
    (tmp_path / "0101" / "123.mp4").write_bytes(b"x")
    (tmp_path / "ytb_abc.webm").write_bytes(b"x")
    assert find_video(str(tmp_path), ["0101/123.mp4"]) == str(tmp_path / "0101" / "123.mp4")
    assert find_video(str(tmp_path), ["0101/123"]) == str(tmp_path / "0101" / "123.mp4")
    assert find_video(str(tmp_path), ["./dataflow/example/ytb_abc.webm"]) == str(tmp_path / "ytb_abc.webm")
    assert find_video(str(tmp_path), ["ytb_abc"]) == str(tmp_path / "ytb_abc.webm")
    assert find_video(str(tmp_path), ["/cluster/abs/ytb_abc.webm"]) == str(tmp_path / "ytb_abc.webm")
    assert find_video(str(tmp_path), ["missing"]) is None
    assert find_video(None, ["0101/123.mp4"]) is None


def test_charades_lines_parse_and_malformed_lines_are_rejected(tmp_path):
    txt = tmp_path / "charades_sta_test.txt"
    txt.write_text("AB12C 1.5 7.0##person  opens a door.\nAB12C 1.5##no end\n\nXY 1 two##words\n")
    dur = tmp_path / "charades.json"
    dur.write_text(json.dumps({"AB12C": {"duration": 30.1, "subset": "testing"}}))
    out = drafts("charades-sta", txt, durations=str(dur))
    assert [r.source_key for r, _ in out] == ["line 1", "line 2", "line 4"]  # blank lines are not records
    assert out[0][1]["span"] == {"start": 1.5, "end": 7.0} and out[0][1]["duration"] == 30.1
    assert out[0][0].split == "test"
    assert [d for _, d in out[1:]] == ["line_malformed", "span_not_numeric"]


def test_charades_durations_can_come_from_the_charades_csv(tmp_path):
    txt = tmp_path / "charades_sta_train.txt"
    txt.write_text("AB12C 1.5 7.0##a person sits.\n")
    csv = tmp_path / "Charades_v1_train.csv"
    csv.write_text('id,subject,scene,length\nAB12C,S1,"Kitchen, home",31.25\n')
    assert drafts("charades-sta", txt, durations=str(csv))[0][1]["duration"] == 31.25


def test_nextgqa_answer_text_must_match_exactly_one_option():
    assert answer_index("unwrap it", ["share", "unwrap it", "gesture"]) == 1
    assert answer_index("Unwrap  it", ["share", "unwrap it", "gesture"]) == 1  # case and spacing
    with pytest.raises(Rejected, match="answer_ambiguous"):
        answer_index("lay on floor", ["crawl", "lay on floor", "clap", "lay on floor"])
    with pytest.raises(Rejected, match="answer_not_in_options"):
        answer_index("dance", ["crawl", "clap"])


def test_lettered_options_and_letter_answers():
    assert strip_letters(["(A) share", "(B) unwrap it"]) == ["share", "unwrap it"]
    assert strip_letters(["A. A YouTube notification", "B. A command"]) == ["A YouTube notification", "A command"]
    with pytest.raises(Rejected, match="options_unlettered"):
        strip_letters(["(B) x", "(A) y"])
    assert letter_index("(C)", 5) == 2
    assert letter_index("<answer>A</answer>", 4) == 0
    with pytest.raises(Rejected, match="answer_index_out_of_range"):
        letter_index("<answer>E</answer>", 4)
    with pytest.raises(Rejected, match="answer_not_a_letter"):
        letter_index("<answer>the man</answer>", 4)


def test_got10k_frame_rule_first_then_next_last_and_evenly_spaced():
    # 100 visible frames: frame 0 (given in the prompt), then 1, 99 and 5 spread between (floor)
    rest = list(range(1, 100))
    step = (len(rest) - 1) / 6
    assert pick_frames(list(range(100))) == [0] + [rest[int(j * step)] for j in range(7)]
    assert pick_frames(list(range(100)))[:2] == [0, 1] and pick_frames(list(range(100)))[-1] == 99
    assert pick_frames(list(range(8))) == list(range(8))
    with pytest.raises(Rejected, match="too_few_visible_frames"):
        pick_frames(list(range(7)))


def test_got10k_absent_covered_and_empty_boxes_are_not_visible():
    seq = {
        "groundtruth": ["1,1,5,5", "1,1,5,5", "1,1,0,5", "1,1,5,5", "1,1,5,5"],
        "absence": ["1", "0", "0", "0", "0"],
        "cover": ["8", "8", "8", "0", "3"],
    }
    assert visible_frames(seq) == [1, 4]


def test_jsonl_refuses_unknown_columns_and_bad_json(tmp_path):
    path = tmp_path / "mine.jsonl"
    path.write_text(
        json.dumps({"task": "video_qa", "video_key": "v", "query": "q?", "choices": ["a", "b"], "answer_index": 1,
                    "video": "dir/v.mp4"}) + "\n"
        + json.dumps({"task": "video_qa", "video_key": "v", "query": "q?", "labels": 3}) + "\n"
        + "{not json\n"
    )
    out = drafts("jsonl", path)
    assert out[0][1]["media"] == VideoFile(("dir/v.mp4", "v"))
    assert "video" not in out[0][1]
    assert [d for _, d in out[1:]] == ["column_unknown", "json_malformed"]
