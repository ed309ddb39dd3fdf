"""Ingestion outputs through the storage layer, on a local folder and on a remote filesystem (fsspec
memory://): the Parquet writer, the manifest counted from what was written, the OUT folder's rules and
the lookup of video files."""

from __future__ import annotations

import json
import uuid

import pyarrow as pa
import pytest

import schemas
from pipelines import layout, storage
from pipelines.ingest import IngestConfig, manifest, outdir, run_ingest
from pipelines.ingest.run import IngestError
from pipelines.parquet import ParquetFileWriter, open_parquet, write_rows
from pipelines.sources.base import SourceOptions
from pipelines.synthetic_ingested import make_samples, make_videos
from pipelines.video.errors import VideoError
from pipelines.video.media import VideoFile


def test_an_ingestion_folder_round_trips_through_the_writer_and_the_manifest(root):
    videos = make_videos(3, n_frames=2)
    samples = make_samples(videos, 7)
    samples[0]["repairs"], samples[1]["repairs"] = ["span_end_clipped"], ["span_end_clipped", "span_start_clipped"]
    for s in samples[2:]:
        s["repairs"] = []
    rejects = [{"reason": r, "detail": "", "dataset": "synthetic", "raw": "{}"} for r in ("a", "b", "a")]
    write_rows(layout.part_path(root, "samples", 0, 2), samples[:4], schemas.samples_schema())
    write_rows(layout.part_path(root, "samples", 1, 2), samples[4:], schemas.samples_schema())
    write_rows(layout.part_path(root, "rejects", 0, 1), [{f.name: r.get(f.name) for f in schemas.rejects_schema()}
                                                          for r in rejects], schemas.rejects_schema())
    writer = ParquetFileWriter(layout.part_path(root, "videos", 0, 1), schemas.videos_schema(), media_columns=("frames",))
    for v in videos[:2]:
        writer.write(v)
    writer.close()
    storage.write_json(layout.batch_record(root, "videos", 0, 1), {"failed": {"vid000002": ["decode_timeout", "killed"]}})

    back = open_parquet(layout.part_path(root, "videos", 0, 1))
    assert back.read(columns=["video_key"]).column(0).to_pylist() == ["vid000000", "vid000001"]
    assert back.read(columns=["frames"]).column(0).to_pylist() == [v["frames"] for v in videos[:2]]
    m = manifest.build(root, 10, {"frames": False}, {"run_s": 1.0}, {"dataset": "synthetic"})
    assert m["counts"] == {"input": 10, "written": 7, "repaired": 2, "rejected": 3}
    assert m["repaired_by_reason"] == {"span_end_clipped": 2, "span_start_clipped": 1}
    assert m["rejected_by_reason"] == {"a": 2, "b": 1}
    assert m["videos"] == {"written": 2, "failed": 1, "decoded": 3, "failed_by_reason": {"decode_timeout": 1}}
    assert m["files"] == {"samples": ["samples/part-00000-of-00002.parquet", "samples/part-00001-of-00002.parquet"],
                          "videos": ["videos/part-00000-of-00001.parquet"],
                          "rejects": ["rejects/part-00000-of-00001.parquet"]}
    manifest.write(root, m)
    assert storage.read_json(layout.manifest_path(root)) == m
    # input must be written + rejected, exactly: a record missing or one counted twice stops the run
    for read in (11, 9, 0):
        with pytest.raises(manifest.RecordsLost, match=f"^read {read} records but wrote 7 and rejected 3$"):
            manifest.build(root, read, {}, {}, {})
    assert manifest.build(root, None, {}, {}, {})["counts"]["input"] == 10   # no read counter: the outputs' sum


def test_the_manifest_says_what_was_asked_and_how_many_records_had_no_video(tmp_path):
    root = str(tmp_path)
    samples = make_samples(make_videos(2, n_frames=2), 3)
    for s in samples:
        s["repairs"] = []
    write_rows(layout.part_path(root, "samples", 0, 1), samples, schemas.samples_schema())
    reasons = ("video_missing", "line_malformed", "video_missing")
    write_rows(layout.part_path(root, "rejects", 0, 1), [{"reason": r, "detail": "", "dataset": "synthetic", "raw": "{}"}
                                                          for r in reasons], schemas.rejects_schema())
    options, timings = {"only_present_videos": True, "frames": False}, {"run_s": 2.5}
    m = manifest.build(root, 6, options, timings, {"dataset": "synthetic"})
    assert m["counts"] == {"input": 6, "written": 3, "repaired": 0, "rejected": 3, "video_absent": 2}
    assert (m["schema_version"], m["options"], m["timings"], m["dataset"]) == (schemas.SCHEMA_VERSION, options, timings, "synthetic")
    assert m["versions"]["schema_version"] == schemas.SCHEMA_VERSION and "ffmpeg" not in m["versions"]   # no frames asked
    assert manifest.build(root, 6, {"frames": True}, {}, {})["versions"]["ffmpeg"].startswith("ffmpeg version")
    # without --only-present-videos the rejects are all counted as such, and no video_absent count appears
    assert "video_absent" not in manifest.build(root, 6, {}, {}, {})["counts"]
    clean = [r for r in reasons if r != "video_missing"]
    write_rows(layout.part_path(root, "rejects", 0, 1), [{"reason": r, "detail": "", "dataset": "synthetic", "raw": "{}"}
                                                          for r in clean], schemas.rejects_schema())
    assert manifest.build(root, 4, options, {}, {})["counts"]["video_absent"] == 0


def test_a_writer_that_fails_publishes_nothing(root):
    path = layout.part_path(root, "samples", 0, 1)
    writer = ParquetFileWriter(path, schemas.samples_schema())
    writer.write({"sample_id": "x"})
    writer.abort()
    assert not storage.exists(path) and storage.listdir(storage.join(root, "samples")) == []
    with pytest.raises(pa.ArrowInvalid):
        write_rows(path, [{"sample_id": "x", "duration": "not a number"}], schemas.samples_schema())
    assert storage.listdir(storage.join(root, "samples")) == []
    write_rows(layout.part_path(root, "rejects", 0, 1), [{"reason": "x"}], schemas.rejects_schema())
    manifest.drop_empty_tables(root)   # a table without rows has no files, and no folder
    assert not storage.exists(storage.join(root, "samples")) and len(layout.parts(root, "rejects")) == 1


def test_the_out_folder_rules_hold_on_a_bucket_too(root):
    identity = {"dataset": "jsonl", "frames": True}
    assert outdir.prepare(root, identity) == 0
    assert storage.read_json(storage.join(root, layout.RUN_FILE)) == identity
    write_rows(layout.part_path(root, "videos", 0, 2), make_videos(1, n_frames=2), schemas.videos_schema())
    storage.write_json(layout.batch_record(root, "videos", 0, 2), {"failed": {}})
    write_rows(layout.part_path(root, "videos", 1, 2), make_videos(1, n_frames=2), schemas.videos_schema())  # no record
    write_rows(layout.part_path(root, "samples", 0, 1), [], schemas.samples_schema())
    with pytest.raises(outdir.OutDirError, match="not empty; pass --overwrite"):
        outdir.prepare(root, identity)
    with pytest.raises(outdir.OutDirError, match="these differ: frames"):
        outdir.prepare(root, {**identity, "frames": False}, resume=True)
    assert outdir.prepare(root, identity, resume=True) == 1          # the finished video batch is kept
    assert layout.parts(root, "samples") == [] and len(layout.parts(root, "videos")) == 2
    assert outdir.prepare(root, identity, overwrite=True) == 0
    assert layout.parts(root, "videos") == []


def test_video_files_are_found_under_a_remote_folder():
    folder = f"memory://vrft-videos-{uuid.uuid4().hex[:8]}"
    storage.write_bytes(storage.join(folder, "0101", "abc.webm"), b"x")
    storage.write_bytes(storage.join(folder, "k1.mp4"), b"x")
    try:
        assert VideoFile.of("0101/abc").locate(folder) == storage.join(folder, "0101", "abc.webm")
        assert VideoFile().locate(folder, "k1") == storage.join(folder, "k1.mp4")   # no hints: the video key
        with pytest.raises(VideoError, match="video_missing: no file for \\['nope'\\]"):
            VideoFile.of("nope").locate(folder)
    finally:
        storage.remove(folder)


def test_a_labels_only_run_reads_and_writes_a_bucket():
    """The whole pipeline on remote paths: annotations read from, and every table written to, memory://."""
    bucket = f"memory://vrft-run-{uuid.uuid4().hex[:8]}"
    rows = [{"task": "temporal_grounding", "video_key": f"v{i}", "query": "a person opens a door", "duration": 10.0,
             "span": {"start": 1.0 + i, "end": 11.0 if i < 2 else 9.0}} for i in range(3)]   # 2 ends clipped
    storage.write_text(storage.join(bucket, "in", "train.jsonl"), "".join(json.dumps(r) + "\n" for r in rows) + "{oops\n")
    out = storage.join(bucket, "out")
    try:
        cfg = IngestConfig("jsonl", SourceOptions((storage.join(bucket, "in", "train.jsonl"),)), out, frames=False)
        m = run_ingest(cfg).manifest
        assert m["counts"] == {"input": 4, "written": 3, "repaired": 2, "rejected": 1}
        assert storage.read_json(layout.manifest_path(out))["counts"] == m["counts"]
        (samples,) = layout.parts(out, "samples")
        got = open_parquet(samples).read(columns=["video_key", "span"]).to_pylist()
        assert sorted((r["video_key"], r["span"]["end"]) for r in got) == [("v0", 10.0), ("v1", 10.0), ("v2", 9.0)]
        with pytest.raises(IngestError, match="not empty"):
            run_ingest(cfg)
    finally:
        storage.remove(bucket)
