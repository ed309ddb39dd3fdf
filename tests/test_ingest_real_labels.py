"""Every real annotation file through the Beam pipeline (labels only), against counts derived here.

The expectations are computed in this file from the raw files with a few lines of arithmetic
(`span_outcome` below restates the policy: clip ends within 2 s, reject the rest), then compared
record by record (source file + line/key) with what the pipeline wrote and rejected.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipelines import layout
from pipelines.ingest import IngestConfig, run_ingest
from pipelines.sources.base import SourceOptions

TOL = 2.0


def span_outcome(s: float, e: float, d: float) -> tuple[set[str], set[str]]:
    """(reject codes, repairs) the policy implies for one span in a video of d seconds."""
    repairs = set()
    if -TOL <= s < 0 < e:
        s, repairs = 0.0, repairs | {"span_start_clipped"}
    if s < d < e <= d + TOL:
        e, repairs = d, repairs | {"span_end_clipped"}
    codes = set()
    if s < 0:
        codes.add("span_negative_start")
    if s > e:
        codes.add("span_inverted")
    elif s == e:
        codes.add("span_zero_length")
    if s >= d:
        codes.add("span_starts_after_video")
    elif e > d:
        codes.add("span_past_end")
    return codes, repairs


def spans_outcome(spans: list, d: float) -> tuple[set[str], set[str]]:
    """Evidence spans: the union of what each span implies."""
    codes, repairs = set(), set()
    for s, e in spans:
        c, r = span_outcome(s, e, d)
        codes, repairs = codes | c, repairs | r
    return codes, repairs


def ingest(tmp_path_factory, dataset: str, *paths: Path, **source) -> Path:
    return ingest_dir(tmp_path_factory.mktemp(dataset), dataset, *paths, **source)


def ingest_dir(out: Path, dataset: str, *paths: Path, **source) -> Path:
    cfg = IngestConfig(dataset, SourceOptions(tuple(str(p) for p in paths), **source), str(out), frames=False)
    run_ingest(cfg, ["--direct_num_workers=1"])
    return out


def _rows(out: Path, table: str) -> list[dict]:
    """A table's rows (a table that got none has no files: pipelines/layout.py)."""
    return [r for p in layout.parts(str(out), table) for r in pq.read_table(p).to_pylist()]


def written(out: Path) -> dict[tuple[str, str], dict]:
    return {(r["source_file"], r["source_key"]): r for r in _rows(out, "samples")}


def rejected(out: Path) -> dict[tuple[str, str], dict]:
    return {(r["source_file"], r["source_key"]): r for r in _rows(out, "rejects")}


def manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text())


def check(out: Path, expected: dict[tuple[str, str], tuple[set[str], set[str]]]) -> None:
    """Each record lands where its expectation says: written with these repairs, or rejected for these codes."""
    rows, rejects, m = written(out), rejected(out), manifest(out)
    assert len(rows) + len(rejects) == len(expected)  # no record twice, none lost
    want_rejects = {k for k, (codes, _) in expected.items() if codes}
    assert set(rejects) == want_rejects
    for k in want_rejects:
        assert set(rejects[k]["reason"].split("+")) == expected[k][0], k
    for k, row in rows.items():
        assert set(row["repairs"]) == expected[k][1], k
    repaired = sum(1 for k, (codes, rep) in expected.items() if rep and not codes)
    assert m["counts"] == {"input": len(expected), "written": len(expected) - len(want_rejects),
                           "repaired": repaired, "rejected": len(want_rejects)}
    assert m["rejected_by_reason"] == dict(Counter(r["reason"] for r in rejects.values()))
    # every repair of every written row, each counted once (a row can have several)
    assert m["repaired_by_reason"] == dict(Counter(x for codes, rep in expected.values() if not codes for x in rep))


# ---- Charades-STA (txt + charades.json durations) -------------------------------------------------


@pytest.fixture(scope="module")
def charades(real_data, tmp_path_factory):
    d = real_data / "charades_sta"
    files = (d / "charades_sta_train.txt", d / "charades_sta_test.txt")
    return files, ingest(tmp_path_factory, "charades-sta", *files, durations=str(d / "charades.json"))


def test_charades_sta_train_and_test(charades, real_data):
    files, out = charades
    durations = {k: v["duration"] for k, v in json.loads((real_data / "charades_sta/charades.json").read_text()).items()}
    expected = {}
    for f in files:
        for i, line in enumerate(f.read_text().splitlines(), start=1):
            vid, s, e = line.split("##")[0].split()
            expected[(f.name, f"line {i}")] = span_outcome(float(s), float(e), durations[vid])
    check(out, expected)
    rows = written(out)
    assert sum(k[0] == "charades_sta_train.txt" for k in rows) == 12408
    assert Counter(r["split"] for r in rows.values()) == {"train": 12408, "test": 3720}
    # sentences with stray spaces are tidied
    assert all(r["query"] == " ".join(r["query"].split()) for r in rows.values())


# ---- ActivityNet Captions, TimeZero, VideoChat-R1 grounding (grouped JSON) ------------------------


def grouped_expectations(*files: Path) -> dict:
    expected = {}
    for f in files:
        for vid, entry in json.loads(f.read_text()).items():
            d = entry.get("duration", entry.get("video_duration"))
            for i, (s, e) in enumerate(entry["timestamps"]):
                expected[(f.name, f"{vid}#{i}")] = span_outcome(s, e, d)
    return expected


@pytest.fixture(scope="module")
def activitynet(real_data, tmp_path_factory):
    files = (real_data / "activitynet_captions/train.json", real_data / "activitynet_captions/val_2.json")
    return files, ingest(tmp_path_factory, "activitynet-captions", *files)


def test_activitynet_captions_train_and_val_2(activitynet):
    files, out = activitynet
    expected = grouped_expectations(*files)
    check(out, expected)
    reasons = manifest(out)["rejected_by_reason"]
    assert reasons == {"span_inverted": 2, "span_zero_length": 2}  # all in train.json
    assert Counter(k[0] for k in written(out)) == {"train.json": 37417, "val_2.json": 17031}


@pytest.fixture(scope="module")
def timezero(real_data, tmp_path_factory):
    d = real_data / "timezero"
    files = (d / "charades_train.json", d / "charades_test.json", d / "charades_test_ood.json")
    return files, ingest(tmp_path_factory, "timezero", *files)


def test_timezero_both_schemas(timezero):
    files, out = timezero
    expected = grouped_expectations(*files)
    check(out, expected)
    rejects = rejected(out)
    # the OOD file's schema (video_duration) is read: its three spans that start after the video are out
    assert sorted(r["reason"] for k, r in rejects.items() if k[0] == "charades_test_ood.json") == [
        "span_starts_after_video"] * 3
    assert {r["split"] for r in written(out).values()} == {"train", "test", "test_ood"}


# ---- NExT-GQA, NExT-QA (csv) ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def nextgqa(real_data, tmp_path_factory):
    d = real_data / "nextgqa"
    files = (d / "val.csv", d / "test.csv")
    return files, ingest(tmp_path_factory, "nextgqa", *files)


def test_nextgqa_val_and_test(nextgqa, real_data):
    files, out = nextgqa
    expected = {}
    for f in files:
        gsub = json.loads((real_data / f"nextgqa/gsub_{f.stem}.json").read_text())
        for i, row in enumerate(csv.DictReader(f.open()), start=2):
            g = gsub[row["video_id"]]
            # the real duration: the csv's frame count over gsub's fps (gsub's own is whole seconds)
            codes, repairs = spans_outcome(g["location"][row["qid"]], int(row["frame_count"]) / g["fps"])
            hits = [row[f"a{j}"] for j in range(5)].count(row["answer"])
            codes = codes or ({"answer_ambiguous"} if hits > 1 else set())
            expected[(f.name, f"line {i}")] = (codes, repairs)
    check(out, expected)
    assert manifest(out)["rejected_by_reason"] == {"answer_ambiguous": 1}
    rows = written(out)
    some = rows[("val.csv", "line 2")]  # "why did the boy pick up one present ..." -> (C) unwrap it
    assert some["task"] == "grounded_qa" and some["answer_index"] == 2 and some["choices"][2] == "unwrap it"
    assert some["spans"] and some["duration"] == 2697 / 29.97002997002997  # 89.99 s; gsub says 90


def test_nextgqa_spans_are_clipped_to_the_real_duration_not_whole_seconds(real_data, tmp_path):
    """Issue 13 #6: a video of 643 frames at 29.97 fps lasts 21.45 s; gsub rounds it to 21, which used to
    clip an evidence span [9.2, 21.5] to [9.2, 21.0]."""
    (tmp_path / "val.csv").write_text(
        "video_id,frame_count,width,height,question,answer,qid,type,a0,a1,a2,a3,a4\n"
        "v1,643,640,480,what happens,b,0,CW,a,b,c,d,e\n")
    (tmp_path / "gsub_val.json").write_text(json.dumps({"v1": {"duration": 21, "fps": 29.97, "location": {"0": [[9.2, 21.5]]}}}))
    out = ingest_dir(tmp_path / "out", "nextgqa", tmp_path / "val.csv")
    (row,) = written(out).values()
    assert row["duration"] == pytest.approx(643 / 29.97)
    assert row["spans"] == [{"start": 9.2, "end": 643 / 29.97}] and row["repairs"] == ["span_end_clipped"]


@pytest.fixture(scope="module")
def nextqa(real_data, tmp_path_factory):
    f = real_data / "nextqa/val.csv"
    return f, ingest(tmp_path_factory, "nextqa", f)


def test_nextqa_val(nextqa):
    f, out = nextqa
    rows_in = list(csv.DictReader(f.open()))
    expected, seen = {}, set()
    for i, r in enumerate(rows_in, start=2):  # a later row with the same content is a duplicate
        content = (r["video"], r["question"], tuple(r[f"a{j}"] for j in range(5)), r["answer"])
        expected[(f.name, f"line {i}")] = ({"duplicate_record"} if content in seen else set(), set())
        seen.add(content)
    assert sum(1 for codes, _ in expected.values() if codes) == 1
    check(out, expected)
    rows = written(out)
    for i in (2, 500, len(rows_in) + 1):
        raw, row = rows_in[i - 2], rows[(f.name, f"line {i}")]
        assert row["task"] == "video_qa" and row["choices"][row["answer_index"]] == raw[f"a{raw['answer']}"]


# ---- VideoChat-R1 (grounded QA + tracking files), Video-R1-style QA ----------------------------


@pytest.fixture(scope="module")
def videochat(real_data, tmp_path_factory):
    d = real_data / "videochat_r1"
    files = (d / "nextgqa_val.json", d / "got_val.json")
    return files, ingest(tmp_path_factory, "videochat-r1", *files)


def test_videochat_r1_grounded_qa_and_tracking_files(videochat):
    (gqa, got), out = videochat
    expected = {}
    for i, item in enumerate(json.loads(gqa.read_text())):
        expected[(gqa.name, f"[{i}]")] = spans_outcome(item["glue"], item["duration"])
    # without --videos the tracking boxes are written with assumed times (one frame apart), and say so
    tracks = json.loads(got.read_text())
    for i in range(len(tracks)):
        expected[(got.name, f"[{i}]")] = (set(), {"box_times_assumed"})
    check(out, expected)
    first = written(out)[(gqa.name, "[0]")]
    assert first["choices"][:2] == ["share with the girl", "approach lady sitting there"]
    assert first["answer_index"] == 2 and first["video_key"] == "4882821564"
    track = written(out)[(got.name, "[7]")]
    assert track["task"] == "tracking" and track["query"] == tracks[7]["object"]
    assert [[b["x0"], b["y0"], b["x1"], b["y1"]] for b in track["boxes"]] == tracks[7]["gt"]
    assert [b["t"] for b in track["boxes"]] == [k / 10 for k in range(8)]


@pytest.fixture(scope="module")
def video_r1(real_data, tmp_path_factory):
    f = real_data / "video_r1_style/dataflow_mm_video_cot_qa_sample_data.json"
    return f, ingest(tmp_path_factory, "video-r1", f)


def test_video_r1_multiple_choice_kept_other_problem_types_rejected(video_r1):
    f, out = video_r1
    items = json.loads(f.read_text())
    expected = {
        (f.name, f"[{i}]"): (set() if it["problem_type"] == "multiple choice" else {"problem_type_undeclared"}, set())
        for i, it in enumerate(items)
    }
    check(out, expected)
    row = written(out)[(f.name, "[0]")]
    assert row["task"] == "video_qa" and row["video_key"] == "ytb_7nRmsEw7nsE"
    assert row["choices"][0] == "A YouTube subscription notification" and row["answer_index"] == 0
    raw = json.loads(rejected(out)[(f.name, "[1]")]["raw"])
    assert raw["record"]["problem_type"] == "free-form"  # the dead letter keeps the raw record


def test_outputs_carry_explicit_schemas_and_versions(charades):
    _, out = charades
    import schemas

    for table, schema in (("samples", schemas.samples_schema()), ("rejects", schemas.rejects_schema())):
        for part in (out / table).glob("part-*.parquet"):
            f = pq.ParquetFile(part)
            assert f.schema_arrow.remove_metadata() == schema.remove_metadata()
            assert schemas.schema_version(f.schema_arrow.metadata) == schemas.SCHEMA_VERSION
            for g in range(f.metadata.num_row_groups):
                assert {f.metadata.row_group(g).column(c).compression for c in range(f.metadata.num_columns)} == {"ZSTD"}
    m = manifest(out)
    assert m["schema_version"] == schemas.SCHEMA_VERSION and m["versions"]["apache-beam"]
    assert m["options"]["policy"] == {"clip_tolerance_s": 2.0} and m["options"]["runner"] == "FnApiRunner"
