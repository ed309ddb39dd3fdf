"""`vrft show DIR --list` (issue 13 #1): every sample's id, task, video and query, from an ingestion folder
or from training shards (whose query is read back out of the rendered prompt)."""

from __future__ import annotations

import os
import subprocess
import sys

import pyarrow.parquet as pq
import pytest

import schemas
from pipelines import synthetic_ingested as synthetic
from pipelines.mix import parse_recipe, run_mix
from pipelines.sample_list import query_from_prompt
from tests.conftest import ROOT

TRICKY = 'he said "hi". then (a) [b] .* c?'   # quotes, the intro's own closing '".', regex characters


def vrft(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "vrft", *args], cwd=ROOT, capture_output=True, text=True, **kw)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """An ingestion folder of every task, one tracking and one grounding query made tricky, one too long
    for a line."""
    videos = synthetic.make_videos(6, n_frames=4, seed=1)
    samples = synthetic.make_samples(videos, 40, seed=1)
    samples[0]["query"] = TRICKY
    samples[3]["query"] = "red ball"
    samples[5]["query"] = " ".join(["the person opens the door and walks to the window"] * 3)   # cut at 60
    return synthetic.write_ingested(str(tmp_path_factory.mktemp("listed") / "ingested"), samples, videos), samples


def shown(query: str) -> str:
    """The query as a --list line shows it: up to 60 characters."""
    return query if len(query) <= 60 else query[:59] + "…"


def parse(stdout: str) -> list[list[str]]:
    lines = stdout.splitlines()
    assert lines[0].split() == ["sample_id", "task", "video", "query"]
    return [ln.split(maxsplit=3) for ln in lines[1:]]


def test_the_query_comes_back_out_of_every_tasks_prompt(folder):
    _, samples = folder
    tasks = {t.name for t in schemas.tasks()}
    assert {s["task"] for s in samples} == tasks
    for row in samples:
        for think in (True, False):
            prompt = schemas.render_prompt(schemas.get_task(row["task"]), row, think)[-1]["content"]
            assert query_from_prompt(row["task"], prompt) == row["query"], (row["task"], prompt)
    assert query_from_prompt("temporal_grounding", "<video>\nsomething else entirely\n") == ""


def test_list_an_ingestion_folder(folder):
    path, samples = folder
    res = vrft("show", path, "--list")
    assert res.returncode == 0, res.stderr
    assert res.stderr.strip() == f"{len(samples)} samples in {path}"
    want = {s["sample_id"]: s for s in samples}
    listed = parse(res.stdout)
    assert len(listed) == len(samples) and {x[0] for x in listed} == set(want)
    for sid, task, video, query in listed:
        s = want[sid]
        assert (task, video) == (s["task"], s["video_key"])
        assert query == shown(s["query"])


def test_list_training_shards(folder, tmp_path):
    path, samples = folder
    out = tmp_path / "mix"
    run_mix(parse_recipe({"sources": [{"path": path}], "rows_per_shard": 16, "dedup": False}, "/"), str(out))
    res = vrft("show", str(out), "--list")
    assert res.returncode == 0, res.stderr
    want = {s["sample_id"]: s for s in samples}
    listed = parse(res.stdout)
    shard_ids = [r for f in sorted(out.glob("*.parquet")) for r in pq.read_table(f, columns=["sample_id"])["sample_id"].to_pylist()]
    assert [x[0] for x in listed] == shard_ids and len(shard_ids) == len(samples)   # the shards' order
    for sid, task, video, query in listed:
        assert (task, video, query) == (want[sid]["task"], want[sid]["video_key"], shown(want[sid]["query"]))


def test_a_closed_pipe_ends_the_listing_quietly(folder):
    """As after `| head`: the reader has gone (its end closed before the listing writes, so the write fails
    at once, whatever the pipe's buffer holds)."""
    path, _ = folder
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        res = subprocess.run([sys.executable, "-m", "vrft", "show", path, "--list"], cwd=ROOT, stdout=write_end,
                             stderr=subprocess.PIPE, text=True)
    finally:
        os.close(write_end)
    assert res.returncode == 0 and "Traceback" not in res.stderr and "BrokenPipe" not in res.stderr, res.stderr


def test_list_and_id_mistakes_are_one_line(folder):
    path, samples = folder
    res = vrft("show", path, samples[0]["sample_id"], "--list")
    assert res.returncode == 2 and "not both" in res.stderr and "Traceback" not in res.stderr
    res = vrft("show", path)
    assert res.returncode == 2 and "--list" in res.stderr and "Traceback" not in res.stderr
