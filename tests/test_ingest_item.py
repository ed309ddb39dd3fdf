"""The typed element between the ingestion stages: computed once when drafted, rejected with its own id."""

from __future__ import annotations

import hashlib
import json

import pytest

import pipelines.ingest.transforms as transforms
import pipelines.normalize
from pipelines.ingest.frames import emit
from pipelines.ingest.item import Item, VideoFacts
from pipelines.ingest.transforms import _DraftFn, _NormalizeFn, _ProbeFn
from pipelines.normalize import RepairPolicy
from pipelines.sources.base import RawRecord
from pipelines.video.media import ImageSequence, VideoFile

REC = RawRecord("charades-sta", "charades_sta_test.txt", "line 7", {"line": "AO8RW 0.0 6.9##a person opens a door."},
                "test", {"duration": 30.0})
GROUNDING = {"task": "temporal_grounding", "video_key": " AO8RW ", "query": "a person opens a door.",
             "duration": 30.0, "span": {"start": 0.0, "end": 6.9}, "media": VideoFile.of("AO8RW")}


def expected_id(rec: RawRecord) -> str:
    """GROUNDING's sample id by its definition: sha256 of the dataset and its content columns as sorted
    JSON (numbers as floats, texts tidied; no file, position or duration), 20 hex digits."""
    content = {"task": "temporal_grounding", "video_key": "AO8RW", "query": "a person opens a door.",
               "span": {"start": 0.0, "end": 6.9}, "spans": None, "choices": None, "answer_index": None,
               "boxes": None}
    key = "\x1f".join((rec.dataset, json.dumps(content, sort_keys=True, ensure_ascii=False)))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:20]


@pytest.fixture
def hashes(monkeypatch):
    """Counts how often a record is hashed into a sample id."""
    calls = []
    real = pipelines.normalize.content_id

    def counted(dataset, draft):
        calls.append(draft.get("video_key"))
        return real(dataset, draft)

    monkeypatch.setattr(pipelines.normalize, "content_id", counted)
    return calls


def test_an_item_knows_its_id_key_and_frames_from_the_draft():
    item = Item.of(REC, GROUNDING)
    assert item.sample_id == expected_id(REC)
    assert item.video_key == "AO8RW"                       # stripped
    assert item.wanted_times is None                       # a span takes any frame plan
    boxes = [{"t": t, "x0": 0.1, "y0": 0.1, "x1": 0.5, "y1": 0.5} for t in (0.0, 0.5, 1.0)]
    track = Item.of(REC, {"task": "tracking", "video_key": "v", "boxes": boxes})
    assert track.wanted_times == (0.0, 0.5, 1.0)           # the frames its boxes sit on
    images = Item.of(REC, {"task": "tracking", "video_key": "v", "boxes": boxes,
                           "media": ImageSequence(("a.jpg", "b.jpg"), (0.1, 0.2), 10.0, 20)})
    assert images.wanted_times == (0.1, 0.2)               # an image sequence names its own times
    given = Item.of(REC, {**GROUNDING, "sample_id": "  mine-1 "})
    assert given.sample_id == "mine-1"                     # pre-normalized input keeps its id
    assert Item.of(REC, {"task": "temporal_grounding", "video_key": "  "}).video_key is None


def test_rejects_carry_the_id_computed_once(hashes):
    item = Item.of(REC, GROUNDING)
    assert hashes == [" AO8RW "]
    rows = [item.reject("video_missing", "no file"), item.reject("frame_plan_conflict")]
    for row in rows:
        assert row["sample_id"] == expected_id(REC) and row["video_key"] == "AO8RW"
        assert row["source_file"] == "charades_sta_test.txt" and row["source_key"] == "line 7"
        assert json.loads(row["raw"]) == {"record": REC.raw, "joined": REC.context}
    assert [r["reason"] for r in rows] == ["video_missing", "frame_plan_conflict"]
    # the normalize stage reuses the id too: a written row and a rejected one, no second hash
    (written,) = list(_NormalizeFn(RepairPolicy()).process(item))
    inverted = Item.of(REC, {**GROUNDING, "span": {"start": 9.0, "end": 2.0}})
    (rejected,) = list(_NormalizeFn(RepairPolicy()).process(inverted))
    assert written["sample_id"] == expected_id(REC) and rejected.value["sample_id"] == inverted.sample_id
    assert hashes == [" AO8RW ", " AO8RW "]                # one hash per item, none per stage


def test_every_stage_rejects_with_its_reason(tmp_path, monkeypatch):
    def tagged(out):
        return [(o.tag, o.value["reason"], o.value["sample_id"]) for o in out]

    class Broken:
        def draft(self, rec):
            raise ZeroDivisionError("bug")

    rec = RawRecord("jsonl", "x.jsonl", "line 1", {"line": "{oops"}, None, {"reason": "json_malformed", "detail": "x"})
    # a record that never became a draft: its id hashes the dataset and the record as found (no position)
    raw_id = hashlib.sha256('jsonl\x1f{"line": "{oops"}'.encode()).hexdigest()[:20]
    assert tagged(_DraftFn("jsonl").process(rec)) == [("rejects", "json_malformed", raw_id)]
    monkeypatch.setattr(transforms, "get_adapter", lambda name: Broken())
    (out,) = list(_DraftFn("charades-sta").process(REC))
    assert out.value["reason"] == "record_unreadable" and out.value["detail"] == "ZeroDivisionError: bug"

    no_duration = Item.of(REC, {**GROUNDING, "duration": None})
    (probed,) = list(_ProbeFn(str(tmp_path)).process(no_duration))
    assert probed.tag == "rejects" and probed.value["reason"] == "video_missing"
    assert probed.value["detail"] == f"video_missing: no file for ['AO8RW'] under {tmp_path}"

    boxes = [{"t": t, "x0": 0.1, "y0": 0.1, "x1": 0.5, "y1": 0.5} for t in (0.0, 0.5)]
    track = Item.of(REC, {"task": "tracking", "video_key": "v", "query": "cup", "duration": 2.0, "boxes": boxes})
    (misaligned,) = list(_NormalizeFn(RepairPolicy()).process(track.with_facts(VideoFacts(2.0, (0.0, 0.6)))))
    assert misaligned.value["reason"] == "frames_misaligned"

    items = [Item.of(REC, GROUNDING), Item.of(REC, {**GROUNDING, "query": "other"})]
    assert [o.value["reason"] for o in emit(items, None, ("decode_timeout", "killed"))] == ["decode_timeout"] * 2
    assert [o.value["reason"] for o in emit(items, None, None)] == ["video_missing"] * 2
