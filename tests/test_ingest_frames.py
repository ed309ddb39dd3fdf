"""The pipeline with frames: the real Charades clip, every real video, a GOT-10k folder built here,
VideoChat-R1 tracking records timed by their sequence folders, and determinism."""

from __future__ import annotations

import io
import json
import os
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from PIL import Image

from pipelines.ingest import IngestConfig, run_ingest
from pipelines.sources.base import SourceOptions

PATCH = 28 * 28


def ingest(out: Path, dataset: str, *paths, frames: bool = True, **source) -> dict:
    cfg = IngestConfig(dataset, SourceOptions(tuple(str(p) for p in paths), **source), str(out), frames=frames)
    return run_ingest(cfg, ["--direct_num_workers=1"]).manifest


def table(out: Path, name: str) -> list[dict]:
    return pq.read_table(out / name).to_pylist()


def check_frames(video: dict) -> None:
    """Frames really are JPEGs of the planned size on the 28-pixel grid, within the budgets, in time order."""
    w, h, n = video["frame_width"], video["frame_height"], len(video["frames"])
    assert n == len(video["timestamps"]) and n >= 4 and n % 2 == 0
    assert w % 28 == 0 and h % 28 == 0
    assert w * h >= 16 * PATCH and w * h * n / 2 <= 3584 * PATCH
    assert video["timestamps"] == sorted(video["timestamps"])
    for jpeg in (video["frames"][0], video["frames"][-1]):
        assert Image.open(io.BytesIO(jpeg)).size == (w, h)


# ---- the real Charades clip, as Charades-STA test video 93REJ -------------------------------------


@pytest.fixture(scope="module")
def charades_clip(real_data, tmp_path_factory):
    src = tmp_path_factory.mktemp("charades_src")
    (src / "videos").mkdir()
    # a copy: a symlink inside --videos that leads outside it is refused (video_outside_root)
    shutil.copyfile(real_data / "videos/univtg/charades.mp4", src / "videos" / "93REJ.mp4")
    lines = (real_data / "charades_sta/charades_sta_test.txt").read_text().splitlines()
    (src / "charades_sta_test.txt").write_text("\n".join(ln for ln in lines if ln.startswith("93REJ ")) + "\n")
    out = tmp_path_factory.mktemp("charades_out")
    m = ingest(out, "charades-sta", src / "charades_sta_test.txt", videos=str(src / "videos"),
               durations=str(real_data / "charades_sta/charades.json"))
    return src, out, m


def test_real_charades_clip_frames_every_half_second_span_intact(charades_clip):
    _, out, m = charades_clip
    videos, samples = table(out, "videos"), table(out, "samples")
    assert [v["video_key"] for v in videos] == ["93REJ"]
    video = videos[0]
    check_frames(video)
    ts = video["timestamps"]
    assert abs(video["duration"] - 30.7) < 0.1 and ts[0] < 0.1 and ts[-1] > 30.0
    gaps = [b - a for a, b in zip(ts, ts[1:])]
    assert all(0.4 < g < 0.6 for g in gaps)
    assert 1.8 < video["sampled_fps"] < 2.0
    drinking = [s for s in samples if s["query"] == "person drinking from a cup."]
    assert len(drinking) == 1
    assert drinking[0]["span"] == {"start": 3.4, "end": 10.5} and drinking[0]["repairs"] == []
    assert drinking[0]["duration"] == video["duration"]  # with frames, the probed duration is the one used
    assert m["counts"] == {"input": 1, "written": 1, "repaired": 0, "rejected": 0}
    assert m["videos"] == {"written": 1, "failed": 0, "decoded": 1, "failed_by_reason": {}}


def test_video_parts_store_frames_uncompressed_plain_in_bounded_row_groups(charades_clip):
    _, out, _ = charades_clip
    (part,) = (out / "videos").glob("part-*.parquet")
    meta = pq.ParquetFile(part).metadata
    for g in range(meta.num_row_groups):
        assert meta.row_group(g).total_byte_size <= 110 * 2**20
        for c in range(meta.num_columns):
            col = meta.row_group(g).column(c)
            if col.path_in_schema.startswith("frames."):
                assert col.compression == "UNCOMPRESSED" and "PLAIN" in col.encodings
                assert not any("DICTIONARY" in e for e in col.encodings)
            else:
                assert col.compression == "ZSTD"


# ---- every real video through the generic path ---------------------------------------------------


@pytest.fixture(scope="module")
def all_videos(real_data, tmp_path_factory):
    root = real_data / "videos"
    files = sorted(p for p in root.rglob("*") if p.is_file()) + sorted((real_data / "video_r1_style/videos").glob("*.mp4"))
    src = tmp_path_factory.mktemp("all_src")
    lines = []
    for p in files:
        rel = os.path.relpath(p, root)
        key = rel.replace("../", "").replace("/", "_").rsplit(".", 1)[0]
        # paths relative to the real-data folder, which holds both video folders (none may lead out of --videos)
        lines.append({"task": "video_qa", "video_key": key, "query": "what happens?", "choices": ["a", "b"],
                      "answer_index": 0, "video": os.path.relpath(p, real_data)})
    lines.append({**lines[0], "query": "and then?"})  # a second question on the first video
    lines.append({**lines[1], "video_key": "not_there", "video": "nowhere/missing.mp4"})
    (src / "all.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    out = tmp_path_factory.mktemp("all_out")
    m = ingest(out, "jsonl", src / "all.jsonl", videos=str(real_data))
    return files, lines, out, m


def test_every_real_video_is_written_with_verified_frames_or_rejected_for_a_reason(all_videos):
    files, lines, out, m = all_videos
    assert len(files) == 17 + 3  # videos/ and the 3 videos of the Video-R1-style file
    rejects = {r["video_key"]: r["reason"] for r in table(out, "rejects")}
    assert rejects == {"moviepy_result": "video_empty_file", "moviepy_test_video": "frame_too_small",
                       "not_there": "video_missing"}
    videos = {v["video_key"]: v for v in table(out, "videos")}
    assert set(videos) == {ln["video_key"] for ln in lines} - set(rejects)
    for v in videos.values():
        check_frames(v)
    assert m["counts"] == {"input": len(lines), "written": len(lines) - 3, "repaired": 0, "rejected": 3}
    assert m["videos"]["failed_by_reason"] == {"frame_too_small": 1, "video_empty_file": 1, "video_missing": 1}
    # the first video carries two samples and one row
    first = lines[0]["video_key"]
    assert sum(s["video_key"] == first for s in table(out, "samples")) == 2


# ---- GOT-10k: a split folder in the documented layout ----------------------------------------------


def make_sequence(split: Path, name: str, n: int, size=(64, 48), absent=(), boxes=None, frames=True) -> list[tuple]:
    """A GOT-10k sequence folder; returns its pixel boxes (x, y, w, h) per frame."""
    d = split / name
    d.mkdir(parents=True)
    w, h = size
    boxes = boxes or [(2 + i % 20, 3 + i % 10, 20, 15) for i in range(n)]
    for i in range(n):
        path = d / f"{i + 1:08d}.jpg"
        if frames:
            Image.new("RGB", size, (i * 7 % 255, 90, 160)).save(path, quality=80)
        else:
            path.write_bytes(b"")
    (d / "groundtruth.txt").write_text("".join(f"{x:.4f},{y:.4f},{bw:.4f},{bh:.4f}\n" for x, y, bw, bh in boxes))
    (d / "absence.label").write_text("".join("1\n" if i in absent else "0\n" for i in range(n)))
    (d / "cover.label").write_text("".join("0\n" if i in absent else "8\n" for i in range(n)))
    (d / "meta_info.ini").write_text(
        "[METAINFO]\nurl: https://example.org/v\nbegin: 00:00:01\nend: 00:00:10\nanno_fps: 10Hz\n"
        f"object_class: {name.split('_')[0]}\nmotion_class: running\nresolution: ({w}, {h})\n"
    )
    return boxes


def expected_frames(n: int, absent=()) -> list[int]:
    visible = [i for i in range(n) if i not in absent]
    rest = visible[1:]
    return [visible[0]] + [rest[int(j * (len(rest) - 1) / 6)] for j in range(7)]


@pytest.fixture(scope="module")
def got_split(tmp_path_factory):
    split = tmp_path_factory.mktemp("got") / "val"
    seqs = {
        "dog_1": make_sequence(split, "dog_1", 40, absent={0, 3, 17}),
        "cat_2": make_sequence(split, "cat_2", 9, absent={4, 5}),  # 7 visible frames: too few
    }
    (split / "list.txt").write_text("dog_1\ncat_2\nbird_3\n")  # bird_3 is listed but missing
    out = tmp_path_factory.mktemp("got_out")
    m = ingest(out, "got10k", split)
    return split, seqs, out, m


def test_got10k_folder_becomes_tracking_samples_aligned_with_their_frames(got_split):
    _, seqs, out, m = got_split
    (sample,) = table(out, "samples")
    (video,) = table(out, "videos")
    chosen = expected_frames(40, absent={0, 3, 17})
    assert chosen[0] == 1 and 3 not in chosen and 17 not in chosen
    assert sample["task"] == "tracking" and sample["query"] == "dog" and sample["duration"] == 4.0
    want = [(i / 10, x / 64, y / 48, (x + bw) / 64, (y + bh) / 48)
            for i, (x, y, bw, bh) in ((i, seqs["dog_1"][i]) for i in chosen)]
    got = [(b["t"], b["x0"], b["y0"], b["x1"], b["y1"]) for b in sample["boxes"]]
    assert [pytest.approx(w) for w in want] == got
    assert video["video_key"] == "dog_1" and video["timestamps"] == pytest.approx([w[0] for w in want])
    assert video["frame_count"] == 40 and video["fps"] == 10
    check_frames(video)
    assert len(video["frames"]) == 8
    assert {r["source_key"]: r["reason"] for r in table(out, "rejects")} == {
        "cat_2": "too_few_visible_frames", "bird_3": "sequence_missing"}
    assert m["counts"] == {"input": 3, "written": 1, "repaired": 0, "rejected": 2}


def test_videochat_r1_tracking_records_are_timed_by_their_sequence_folders(real_data, tmp_path):
    """Folders built so that our frame rule lands on the file's boxes for two records, and not for a third."""
    items = json.loads((real_data / "videochat_r1/got_val.json").read_text())
    split = tmp_path / "val"
    n, size = 61, (1000, 500)
    chosen = expected_frames(n)
    for k, item in enumerate(items[:3]):
        boxes = [(100.0, 100.0, 50.0, 40.0)] * n
        for i, (x0, y0, x1, y1) in zip(chosen, item["gt"]):
            boxes[i - 1 if k == 2 and i > 1 else i] = (x0 * 1000, y0 * 500, (x1 - x0) * 1000, (y1 - y0) * 500)
        make_sequence(split, os.path.basename(item["path"]), n, size, boxes=boxes, frames=False)
    out = tmp_path / "out"
    m = ingest(out, "videochat-r1", real_data / "videochat_r1/got_val.json", frames=False, videos=str(split))
    rows = {r["source_key"]: r for r in table(out, "samples")}
    assert set(rows) == {"[0]", "[1]"}
    for k in (0, 1):
        boxes = rows[f"[{k}]"]["boxes"]
        assert [b["t"] for b in boxes] == [i / 10 for i in chosen]
        assert [[b["x0"], b["y0"], b["x1"], b["y1"]] for b in boxes] == items[k]["gt"]
        assert rows[f"[{k}]"]["query"] == items[k]["object"]
    reasons = {r["source_key"]: r["reason"] for r in table(out, "rejects")}
    assert reasons["[2]"] == "boxes_disagree_with_sequence"
    assert sum(r == "sequence_missing" for r in reasons.values()) == len(items) - 3
    assert m["counts"]["input"] == len(items)


def test_labels_only_run_reads_missing_durations_from_the_video_header(charades_clip, tmp_path):
    src, _, _ = charades_clip
    txt = tmp_path / "charades_sta_test.txt"
    txt.write_text((src / "charades_sta_test.txt").read_text() + "ZZZZZ 1.0 2.0##nobody has this video.\n")
    out = tmp_path / "out"
    m = ingest(out, "charades-sta", txt, frames=False, videos=str(src / "videos"))
    (row,) = table(out, "samples")
    assert row["video_key"] == "93REJ" and abs(row["duration"] - 30.7) < 0.1
    assert [r["reason"] for r in table(out, "rejects")] == ["video_missing"]
    assert m["videos"]["written"] == 0  # nothing decoded


def test_samples_of_one_video_asking_for_other_frames_and_failed_batches_are_rejects():
    import errno

    from pipelines import storage
    from pipelines.ingest.frames import DecodeVideoBatch, emit
    from pipelines.ingest.item import Item, VideoFacts
    from pipelines.sources.base import RawRecord
    from pipelines.video.media import ImageSequence

    recs = [RawRecord("got10k", "val/list.txt", f"s{i}", {"i": i}, "val") for i in range(2)]
    drafts = [{"video_key": "s", "media": ImageSequence(("a.jpg", "b.jpg"), times, 10.0, 20)}
              for times in ((0.0, 1.0), (0.0, 1.5))]
    items = [Item.of(r, d) for r, d in zip(recs, drafts)]
    facts = VideoFacts(2.0, (0.0, 1.0))
    out = list(emit(items, facts, None))
    assert out[0] == items[0].with_facts(facts) and out[0].facts == facts
    assert out[1].tag == "rejects" and out[1].value["reason"] == "frame_plan_conflict"
    assert out[1].value["sample_id"] == items[1].sample_id and out[1].value["video_key"] == "s"
    # a bug that sinks a whole batch: its samples are rejected, none lost
    stage = DecodeVideoBatch(IngestConfig("got10k", SourceOptions(("val",)), "/nowhere"))
    stage._batch = lambda *a: 1 / 0
    assert [(o.value["source_key"], o.value["reason"], o.value["detail"]) for o in stage.process((0, [("s", items)]), 1)] == [
        ("s0", "video_batch_failed", "ZeroDivisionError: division by zero"),
        ("s1", "video_batch_failed", "ZeroDivisionError: division by zero")]
    # the machine failing is not the samples' fault: it ends the run instead (issue 10 #4)
    def full(*a):
        raise OSError(errno.ENOSPC, "No space left on device")

    stage._batch = full
    with pytest.raises(OSError) as err:
        list(stage.process((0, [("s", items)]), 1))
    assert storage.is_environment(err.value)


def test_a_box_track_on_a_video_file_gets_exactly_the_frames_its_boxes_sit_on(real_data, tmp_path):
    """Tracking from a video file (not an image folder): the declaration's frame times drive the plan."""
    video = real_data / "videos" / "moviepy" / "example.mp4"  # 25 fps, 2 s
    times = [k / 25 for k in (0, 6, 12, 18, 24, 30, 36, 42)]
    boxes = [{"t": t, "x0": 0.1, "y0": 0.2, "x1": 0.5, "y1": 0.6} for t in times]
    rows = [
        {"task": "tracking", "video_key": "clip", "video": "example.mp4", "query": "thing", "boxes": boxes},
        {"task": "temporal_grounding", "video_key": "clip", "video": "example.mp4", "query": "a thing moves",
         "span": {"start": 0.2, "end": 1.0}},
    ]
    src = tmp_path / "train.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "out"
    m = ingest(out, "jsonl", src, videos=str(video.parent))
    (video_row,) = table(out, "videos")
    assert video_row["timestamps"] == pytest.approx(times, abs=1e-3) and len(video_row["frames"]) == 8
    (sample,) = table(out, "samples")
    assert sample["task"] == "tracking" and [b["t"] for b in sample["boxes"]] == times
    assert [r["reason"] for r in table(out, "rejects")] == ["frame_plan_conflict"]
    assert m["counts"] == {"input": 2, "written": 1, "repaired": 0, "rejected": 1}


def test_videos_per_second_counts_decoded_videos_not_missing_ones(charades_clip, tmp_path):
    src, _, _ = charades_clip
    txt = tmp_path / "charades_sta_test.txt"
    txt.write_text("ZZZZZ 1.0 2.0##nobody has this video.\nYYYYY 3.0 4.0##nor this one.\n")
    m = ingest(tmp_path / "out", "charades-sta", txt, videos=str(src / "videos"))
    assert m["videos"]["failed_by_reason"] == {"video_missing": 2}
    assert m["videos"]["decoded"] == 0  # two lookups that found nothing: no video decoded (videos/s counts these)
