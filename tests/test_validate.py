"""`vrft validate`: passes sound shards, fails corrupted ones naming the column and the rows.

GX is slow to import and run, so each dataset is validated once (module fixtures) and the tests
read its result.
"""

from __future__ import annotations

import binascii
import copy
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from pipelines import synthetic_ingested as synthetic
from pipelines.validate import Thresholds
from pipelines.validate.distribution import dataset_checks
from pipelines.validate.labels import label_checks
from pipelines.report.profile import DatasetProfile, Reservoir
from tests.conftest import ROOT

import schemas


def _build(root, mutate=None, n=240, n_videos=40, frames=True):
    videos = synthetic.make_videos(n_videos, n_frames=6)
    samples = synthetic.make_samples(videos, n)
    rejects = []
    if mutate:
        rejects = mutate(samples, videos) or []
    return synthetic.write_ingested(str(root), samples, videos if frames else [], rejects, frames=frames, sample_files=2)


def _corrupt(samples, videos):
    """One of each defect the issue names, plus a few more; returns rejects for the manifest."""
    by_task = {t: [s for s in samples if s["task"] == t] for t in synthetic.TASKS}
    g = by_task["temporal_grounding"][0]
    g["span"] = {"start": g["span"]["start"], "end": g["duration"] + 5.0}                  # span past the end
    t = by_task["tracking"][0]
    t["boxes"][2] = {**t["boxes"][2], "x1": 1.3}                                           # box outside the frame
    dup = copy.deepcopy(by_task["video_qa"][0])
    samples.append(dup)                                                                    # duplicated id
    by_task["grounded_qa"][0]["video_key"] = "no-such-video"                               # missing video
    by_task["grounded_qa"][1]["answer_index"] = 7                                          # answer outside its choices
    for s in by_task["video_qa"]:                                                          # broken adapter: always "A"
        s["answer_index"] = 0
    v = videos[3]
    v["timestamps"] = [v["timestamps"][0], v["timestamps"][2], v["timestamps"][1], *v["timestamps"][3:]]  # not ascending
    w = videos[4]
    w["frame_width"], w["frames"] = 50, [synthetic.jpeg(50, 56, 4, k) for k in range(len(w["frames"]))]  # off the grid
    w["frame_crc32"] = [binascii.crc32(f) for f in w["frames"]]                            # (so written: sums hold)
    # after the write, on disk: a truncated middle JPEG; 16 flipped bytes inside a middle JPEG (its header
    # and the first and last frames decode: only the checksum sees it); a frame time that became NaN
    videos[5]["frames"][1] = videos[5]["frames"][1][:200]
    flipped = bytearray(videos[6]["frames"][3])
    flipped[300:316] = bytes(b ^ 0xFF for b in flipped[300:316])
    videos[6]["frames"][3] = bytes(flipped)
    videos[7]["timestamps"][2] = float("nan")
    # what only the column checks see: a box upside down (inside the frame); frames of the size the
    # budget allows one frame but not six; a last frame cut short before its checksum was made (its
    # header reads, its pixels do not); a grounding set of whole-video spans (an adapter that lost them)
    flipped_box = by_task["tracking"][1]["boxes"][1]
    flipped_box["y0"], flipped_box["y1"] = flipped_box["y1"], flipped_box["y0"]
    videos[8]["plan"] = {**videos[8]["plan"], "total_pixels": 2 * 56 * 56}               # cap 2/3 of a frame
    videos[9]["frames"][-1] = videos[9]["frames"][-1][:-100]
    videos[9]["frame_crc32"] = [binascii.crc32(f) for f in videos[9]["frames"]]
    for s in by_task["temporal_grounding"][1:]:
        s["span"] = {"start": 0.0, "end": s["duration"]}
    return [{"reason": "line_malformed", "detail": "x", "dataset": "synthetic"}] * 400     # 60% of input rejected


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    from pipelines.validate import validate_dataset

    root = _build(tmp_path_factory.mktemp("good"))
    return validate_dataset(root)


@pytest.fixture(scope="module")
def corrupted(tmp_path_factory):
    root = _build(tmp_path_factory.mktemp("bad"), _corrupt)
    res = subprocess.run([sys.executable, "-m", "vrft", "validate", root, "--report", f"{root}/rep"],
                         cwd=ROOT, capture_output=True, text=True)
    with open(f"{root}/rep/summary.json") as f:
        return res, json.load(f), root


def failing(summary, table, column):
    hits = [c for c in summary["checks"] if c["table"] == table and c["column"] == column and not c["success"]]
    assert hits, f"no failing check {table}/{column}; failures: {[(c['table'], c['column']) for c in summary['checks'] if not c['success']]}"
    return hits[0]


def test_sound_dataset_passes_with_report(good):
    assert good.success, good.failures
    assert not good.notes
    tables = {c["table"] for c in good.checks}
    # generated from the declarations: one table per task and per (task, label type) with column checks
    for task in schemas.tasks():
        assert task.name in tables
        assert {f"{task.name}.{lt.name}" for lt in task.labels} <= tables
    assert {"samples", "videos", "dataset"} <= tables
    assert all(c["rows"] > 0 for c in good.checks)
    report = good.report_dir
    for name in ("index.html", "summary.json", "gx/index.html", "tasks.png", "intervals.png", "boxes.png",
                 "answers.png", "durations.png", "repairs_rejects.png"):
        assert (Path(report) / name).is_file(), name
    page = open(f"{report}/index.html").read()
    assert "PASSED" in page and 'href="gx/index.html"' in page and 'src="intervals.png"' in page


def test_corrupted_dataset_fails_naming_columns_and_rows(corrupted):
    res, summary, root = corrupted
    assert res.returncode == 1, res.stderr
    assert summary["success"] is False
    samples = synthetic.make_samples(synthetic.make_videos(40, n_frames=6), 240)
    by_task = {t: [s["sample_id"] for s in samples if s["task"] == t] for t in synthetic.TASKS}
    past_end = failing(summary, "temporal_grounding.span", "duration vs span.end")
    assert past_end["examples"] == [by_task["temporal_grounding"][0]] and past_end["failing"] == 1
    box = failing(summary, "tracking.boxtrack", "boxes.x1")
    assert box["examples"] == [by_task["tracking"][0]] and box["failing"] == 1
    dup = failing(summary, "samples", "sample_id.duplicated")
    assert dup["examples"] == [by_task["video_qa"][0]] and dup["failing"] == 2   # both rows named
    missing = failing(summary, "samples", "video_key.in_videos")
    assert missing["examples"] == [by_task["grounded_qa"][0]]
    answer = failing(summary, "grounded_qa.choice", "choices.count vs answer_index")
    assert answer["examples"] == [by_task["grounded_qa"][1]]
    # the declaration's own record check finds the same rows
    declared = failing(summary, "temporal_grounding", "declared_check")
    assert declared["examples"] == [by_task["temporal_grounding"][0]]
    # videos are named by key
    assert failing(summary, "videos", "timestamps.step_min")["examples"] == ["vid000003"]
    assert failing(summary, "videos", "frame_width % plan.factor")["examples"] == ["vid000004"]
    assert failing(summary, "videos", "frames.jpeg")["examples"] == ["vid000005", "vid000009"]
    assert failing(summary, "videos", "plan.frame_cap vs frame.pixels")["examples"] == ["vid000008"]
    assert failing(summary, "tracking.boxtrack", "boxes.y1 vs boxes.y0")["examples"] == [by_task["tracking"][1]]
    assert failing(summary, "videos", "frames.crc32")["examples"] == ["vid000005", "vid000006"]
    assert failing(summary, "videos", "timestamps.finite")["examples"] == ["vid000007"]
    # distribution checks catch what no single row shows
    assert failing(summary, "dataset", "video_qa.answer_top_share")
    assert failing(summary, "dataset", "rejected_share")
    assert failing(summary, "dataset", "span.whole_video_share")
    # the printed table names the column and the rows too
    assert "duration vs span.end" in res.stdout and by_task["temporal_grounding"][0] in res.stdout
    assert "FAILED" in res.stdout


def test_only_the_corrupted_things_fail(corrupted):
    _, summary, _ = corrupted
    failed = {(c["table"], c["column"]) for c in summary["checks"] if not c["success"]}
    expected = {
        ("temporal_grounding.span", "duration vs span.end"), ("temporal_grounding", "declared_check"),
        ("tracking.boxtrack", "boxes.x1"), ("tracking", "declared_check"),
        ("samples", "sample_id.duplicated"), ("samples", "video_key.in_videos"),
        ("grounded_qa.choice", "choices.count vs answer_index"), ("grounded_qa", "declared_check"),
        ("videos", "timestamps.step_min"), ("videos", "frame_width % plan.factor"), ("videos", "frames.jpeg"),
        ("videos", "frames.crc32"), ("videos", "timestamps.finite"),
        ("dataset", "video_qa.answer_top_share"), ("dataset", "rejected_share"),
        ("tracking.boxtrack", "boxes.y1 vs boxes.y0"), ("videos", "plan.frame_cap vs frame.pixels"),
        ("dataset", "span.whole_video_share"), ("dataset", "span.fraction_median"),
    }
    assert failed == expected


@pytest.fixture(scope="module")
def labels_only(tmp_path_factory):
    from pipelines.validate import validate_dataset

    root = _build(tmp_path_factory.mktemp("labels"), frames=False)
    return validate_dataset(root)


def test_labels_only_dataset_skips_frame_checks_visibly(labels_only):
    assert labels_only.success, labels_only.failures
    assert any("--no-frames" in n for n in labels_only.notes)
    tables = {c["table"] for c in labels_only.checks}
    assert "videos" not in tables
    assert "video_key.in_videos" not in {c["column"] for c in labels_only.checks}
    assert "--no-frames" in open(labels_only.report).read()


def test_a_frames_run_without_videos_fails_every_sample(tmp_path, labels_only):
    from pipelines.validate import validate_dataset

    videos = synthetic.make_videos(5, n_frames=4)
    samples = synthetic.make_samples(videos, 20)
    result = validate_dataset(synthetic.write_ingested(str(tmp_path), samples, [], frames=True))
    (missing,) = [c for c in result.failures if c["column"] == "video_key.in_videos"]
    assert missing["failing"] == 20 and missing["examples"] == [s["sample_id"] for s in samples]


def test_labels_flatten_nested_columns_with_positions():
    rows = [
        {"sample_id": "a", "duration": 10.0, "boxes": [{"t": 0.0, "x0": 0.1, "y0": 0.1, "x1": 0.2, "y1": 0.2},
                                                       {"t": 1.0, "x0": 0.2, "y0": 0.1, "x1": 0.3, "y1": 0.2}]},
        {"sample_id": "b", "duration": 10.0, "boxes": None},
        {"sample_id": "c", "duration": 10.0, "boxes": [{"t": 2.0, "x0": 0.0, "y0": 0.0, "x1": 1.0, "y1": 1.0},
                                                       {"t": 1.5, "x0": 0.0, "y0": 0.0, "x1": 1.0, "y1": 1.0}]},
    ]
    schema = pa.schema([schemas.samples_schema().field(n) for n in ("sample_id", "duration", "boxes")])
    f = label_checks("boxtrack").frame(pa.Table.from_pylist(rows, schema=schema))
    assert f["sample_id"].tolist() == ["a", "a", "c", "c"]
    assert f["boxes.index"].tolist() == [0, 1, 0, 1]
    dt = f["boxes.dt"].tolist()
    assert np.isnan(dt[0]) and dt[1] == 1.0 and np.isnan(dt[2]) and dt[3] == -0.5   # never across tracks
    prof = label_checks("boxtrack").profile(f)["boxes"]
    assert prof["area"].round(6).tolist() == [0.01, 0.01, 1.0, 1.0]
    assert np.isclose(prof["motion"].iloc[1], 0.1) and np.isnan(prof["motion"].iloc[2])


def test_reservoir_is_bounded_and_uniform():
    import pandas as pd

    r, rng = Reservoir(cap=1000), np.random.default_rng(1)
    for k in range(20):
        r.add(pd.DataFrame({"x": np.arange(k * 5000, (k + 1) * 5000)}), rng)
    assert len(r.frame) == 1000 and r.rows == 100_000
    # a uniform sample of 0..99999: mean 50000, sd of the mean 28868 / sqrt(1000) ~ 913
    assert abs(r.frame["x"].mean() - 50_000) < 4 * 913


def test_distribution_thresholds_and_small_datasets():
    import pandas as pd

    prof = DatasetProfile()
    prof.add({"answers": pd.DataFrame({"answer_index": [0] * 30, "n_choices": [5] * 30, "task": "video_qa"})})
    prof.count("task", ["video_qa"] * 30)
    prof.count("repairs", ["span_end_clipped"] * 27 + ["box_times_assumed"] * 30)
    prof.count("policy_repaired", ["rows"] * 27)
    manifest = {"counts": {"input": 40, "written": 30, "repaired": 30, "rejected": 10}}
    table, frame, notes = dataset_checks(prof, manifest, Thresholds())
    # 30 and 40 rows, fewer than min_rows: each share judged by the low end of its 95% Wilson interval,
    # worked by hand from (p + z^2/2n - z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n), z = 1.96
    cols = {e.column: e.kwargs["max_value"] for e in table.expectations}
    assert cols == {"repaired_share": 0.25, "rejected_share": 0.25, "video_qa.answer_top_share": 0.6}
    assert frame["repaired_share"][0] == pytest.approx(0.7438, abs=2e-4)         # 27 of 30
    assert frame["rejected_share"][0] == pytest.approx(0.1419, abs=2e-4)         # 10 of 40: passes
    assert frame["video_qa.answer_top_share"][0] == pytest.approx(0.8865, abs=2e-4)  # 30 of 30
    # an adapter's stated assumption is reported, not judged
    assert "30 of 30 rows (100%) carry the adapter's assumption box_times_assumed" in notes
    th = Thresholds.with_overrides({"min_rows": "5", "max_repaired_share": "0.95"})
    table, frame, notes = dataset_checks(prof, manifest, th)
    cols = {e.column: e.kwargs["max_value"] for e in table.expectations}
    assert cols == {"repaired_share": 0.95, "rejected_share": 0.25, "video_qa.answer_top_share": 0.6}
    assert frame["repaired_share"][0] == 0.9 and frame["rejected_share"][0] == 0.25
    assert frame["video_qa.answer_top_share"][0] == 1.0
    with pytest.raises(ValueError, match="unknown threshold"):
        Thresholds.with_overrides({"max_nonsense": "1"})


@pytest.mark.parametrize("rejected, total, fails", [
    (8, 8, True),    # VideoChat-R1's Quality_Access_4shot.json: every record rejected
    (4, 5, True),    # low end 0.376 > 0.25
    (1, 1, True),    # every record rejected fails at any size
    (1, 3, False),   # low end 0.061: too few to say
    (2, 3, False),   # low end 0.208
    (13, 49, False),  # 26.5 % of 49, low end 0.162
    (13, 50, True),  # 26 % of 50, judged as it is
])
def test_rejected_share_on_small_runs(rejected, total, fails):
    manifest = {"counts": {"input": total, "written": total - rejected, "rejected": rejected}}
    table, frame, _ = dataset_checks(DatasetProfile(), manifest, Thresholds())
    (check,) = [e for e in table.expectations if e.column == "rejected_share"]
    assert (frame["rejected_share"][0] > check.kwargs["max_value"]) == fails
    # the failure message says the value, the threshold and how to change it
    assert f"{rejected / total:.2%} of {total}" in check.about
    assert "max 0.25; --set max_rejected_share=..." in check.about


def test_cli_refuses_what_is_not_an_ingestion_folder(tmp_path):
    res = subprocess.run([sys.executable, "-m", "vrft", "validate", str(tmp_path)], cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 2 and "not an ingestion output folder" in res.stderr and "Traceback" not in res.stderr
    res = subprocess.run([sys.executable, "-m", "vrft", "validate", str(tmp_path), "--set", "bad"], cwd=ROOT,
                         capture_output=True, text=True)
    assert res.returncode == 2 and "NAME=VALUE" in res.stderr


# ---- shards ingested from the real files ----------------------------------------------------------


@pytest.fixture(scope="module")
def real_results(real_ingested):
    from pipelines.validate import validate_dataset

    return {n: validate_dataset(str(real_ingested(n))) for n in ("charades_sta_test", "nextgqa_val", "got_val", "charades_clip")}


def test_real_shards_pass(real_results):
    for name, r in real_results.items():
        assert r.success, (name, r.failures)
    clip = real_results["charades_clip"]
    video_checks = [c for c in clip.checks if c["table"] == "videos"]
    assert video_checks and all(c["rows"] == 1 for c in video_checks)          # 93REJ's frames were checked
    assert not any("skipped" in n for n in clip.notes)
    assert any("--no-frames" in n for n in real_results["charades_sta_test"].notes)
    assert "180 of 180 rows (100%) carry the adapter's assumption box_times_assumed" in real_results["got_val"].notes
    shares = [c for c in real_results["charades_sta_test"].checks if c["column"] == "repaired_share"]
    assert shares and shares[0]["success"]                                      # 562 of 3,720 clipped: judged, passes


def _rows(folder, table):
    return pa.parquet.read_table(f"{folder}/{table}").to_pylist()


def test_real_shards_a_test_corrupts_fail_naming_column_and_rows(real_ingested, tmp_path):
    """The real clip (with frames) plus real Charades-STA test and GOT-10k rows moved onto its video."""
    import pyarrow.parquet  # noqa: F401  (pa.parquet)
    from pipelines.parquet import write_rows
    from pipelines.validate import validate_dataset

    clip = real_ingested("charades_clip")
    out = tmp_path / "corrupt"
    shutil.copytree(clip, out, ignore=shutil.ignore_patterns("report"))
    samples = _rows(clip, "samples")
    ids = {s["sample_id"] for s in samples}  # the clip's query is also a test record: same content, same id
    others = [r for r in _rows(real_ingested("charades_sta_test"), "samples") if r["sample_id"] not in ids]
    extra = others[:40] + _rows(real_ingested("got_val"), "samples")[:20]
    for s in extra:
        s["video_key"] = "93REJ"
    grounding, tracking = extra[0], extra[40]
    grounding["span"] = {"start": grounding["span"]["start"], "end": grounding["duration"] + 3.0}
    twin = {**extra[1], "sample_id": extra[2]["sample_id"]}
    tracking["boxes"][3] = {**tracking["boxes"][3], "x0": -0.2}
    extra[5]["video_key"] = "NOPE0"
    for f in (out / "samples").glob("part-*.parquet"):
        f.unlink()
    write_rows(str(out / "samples/part-00000-of-00001.parquet"), samples + extra + [twin], schemas.samples_schema())
    (video_file,) = (out / "videos").glob("part-*.parquet")
    (video,) = _rows(out, "videos")
    video["timestamps"][5], video["timestamps"][6] = video["timestamps"][6], video["timestamps"][5]
    video_file.unlink()
    write_rows(str(video_file), [video], schemas.videos_schema(), media_columns=("frames",))

    result = validate_dataset(str(out))
    assert not result.success
    named = {(c["table"], c["column"]): c["examples"] for c in result.failures}
    assert named[("temporal_grounding.span", "duration vs span.end")] == [grounding["sample_id"]]
    assert named[("samples", "sample_id.duplicated")] == [extra[2]["sample_id"]]
    assert named[("tracking.boxtrack", "boxes.x0")] == [tracking["sample_id"]]
    assert named[("samples", "video_key.in_videos")] == [extra[5]["sample_id"]]
    assert named[("videos", "timestamps.step_min")] == ["93REJ"]
    assert set(named) == {("temporal_grounding.span", "duration vs span.end"), ("temporal_grounding", "declared_check"),
                          ("samples", "sample_id.duplicated"), ("tracking.boxtrack", "boxes.x0"), ("tracking", "declared_check"),
                          ("samples", "video_key.in_videos"), ("videos", "timestamps.step_min")}


def test_ingest_validates_its_output_unless_told_not_to(real_data, tmp_path, capsys):
    from vrft.cli import main

    src = tmp_path / "charades_sta_test.txt"
    src.write_text("".join((real_data / "charades_sta/charades_sta_test.txt").read_text().splitlines(True)[:30]))
    args = ["ingest", "charades-sta", "--annotations", str(src), "--durations", str(real_data / "charades_sta/charades.json"),
            "--no-frames", "--direct_num_workers=1"]
    assert main([*args, "--out", str(tmp_path / "a")]) == 0
    assert "PASSED" in capsys.readouterr().out and (tmp_path / "a/report/summary.json").is_file()
    assert main([*args, "--out", str(tmp_path / "b"), "--no-validate"]) == 0
    assert "PASSED" not in capsys.readouterr().out and not (tmp_path / "b/report").exists()
