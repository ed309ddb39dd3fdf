"""Bounded work from one number: `vrft mix` estimates the shards before drawing a row and refuses a mixture
above its limits (rows, bytes, the output filesystem's free space) unless asked; the join's memory does
not grow with the mixture."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import schemas
from pipelines import synthetic_ingested as synthetic
from pipelines.mix import allocate, budget, parse_recipe, run_mix
from pipelines.mix.budget import Budget, TooLarge
from pipelines.mix.join import Spill
from pipelines.mix.select import select
from tests.conftest import ROOT


def _noise_jpegs(seed: int, n: int, side: int = 112) -> list[bytes]:
    """Frames that JPEG cannot shrink much (noise): a mixture whose bytes are its frames."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        buf = io.BytesIO()
        Image.fromarray(rng.integers(0, 256, (side, side, 3), dtype=np.uint8)).save(buf, "JPEG", quality=90)
        out.append(buf.getvalue())
    return out


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """60 videos of 6, 8 or 10 noise frames (about 12 KB each), 240 samples."""
    videos = synthetic.make_videos(60, n_frames=10, size=(112, 112))
    for i, v in enumerate(videos):
        n = 6 + 2 * (i % 3)
        v.update(schemas.frame_columns(_noise_jpegs(i, n), v["timestamps"][:n], v["sampled_fps"], 112, 112))
    samples = synthetic.make_samples(videos, 240, ("temporal_grounding", "video_qa"))
    return synthetic.write_ingested(str(tmp_path_factory.mktemp("big") / "src"), samples, videos)


def _recipe(folder, **top):
    return parse_recipe({"seed": 1, "rows_per_shard": 64, "sources": [{"path": folder, "weight": 1}], **top}, "/")


def test_the_estimate_made_before_mixing_is_close_to_what_is_written(folder, tmp_path):
    m = run_mix(_recipe(folder, total=500), str(tmp_path / "o")).manifest
    written = sum(os.path.getsize(tmp_path / "o" / s["file"]) for s in m["shards"])
    assert m["bytes"] == written and m["estimate"]["rows"] == m["rows"] == 500
    # the frames are ~95% of the bytes; the draw is random, so the estimate (its expectation) is near, not equal
    assert abs(m["estimate"]["bytes"] - written) / written < 0.1


def test_a_huge_total_is_refused_before_any_row_is_drawn(folder, tmp_path, monkeypatch):
    def no_draw(*args):
        raise AssertionError("rows were drawn before the budget check")

    monkeypatch.setattr(allocate, "draw", no_draw)
    with pytest.raises(TooLarge) as err:
        run_mix(_recipe(folder, total=100_000_000), str(tmp_path / "o"))
    msg = str(err.value)
    assert "100,000,000 rows is above the limit of 5,000,000" in msg and "--allow-large" in msg
    assert not (tmp_path / "o").exists()
    # the rows limit and the bytes limit, each alone
    with pytest.raises(TooLarge, match="1,000 rows is above the limit of 999"):
        select(_recipe(folder, total=1000), Budget(str(tmp_path), max_rows=999).check)
    with pytest.raises(TooLarge, match=r"of shards is above the limit of 1\.0 MB"):
        select(_recipe(folder, total=1000), Budget(str(tmp_path), max_bytes=10**6).check)


def test_more_than_the_free_space_is_refused_unless_asked(folder, tmp_path, monkeypatch):
    free = {"bytes": 10**12}
    monkeypatch.setattr(budget, "free_bytes", lambda out: free["bytes"])
    est = run_mix(_recipe(folder, total=300), str(tmp_path / "a")).manifest["estimate"]["bytes"]
    free["bytes"] = int(est * budget.DISK_FACTOR) - 1                # the spill and the shards would not fit
    with pytest.raises(TooLarge, match=r"needs about .* on the output filesystem \(2x the shards .*\) and .* is free"):
        run_mix(_recipe(folder, total=300), str(tmp_path / "b"))
    assert run_mix(_recipe(folder, total=300), str(tmp_path / "c"), allow_large=True).manifest["rows"] == 300


def test_the_cli_refuses_with_one_line(folder, tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text(json.dumps({"total": 100_000_000, "sources": [{"path": folder, "weight": 1}]}))
    res = subprocess.run([sys.executable, "-m", "vrft", "mix", str(recipe), "--out", str(tmp_path / "o")],
                         cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "100,000,000 rows is above the limit" in res.stderr and "--allow-large" in res.stderr


def test_the_spill_holds_a_bounded_number_of_frame_bytes_in_python(tmp_path):
    """However large the rows, at most a quarter of the spill budget of frames waits as Python rows, and
    the Arrow batches are written out once they pass the budget."""
    frames = _noise_jpegs(0, 80)                                     # ~1 MB a row
    video = schemas.video_entry(schemas.frame_columns(frames, [k / 2 for k in range(80)], 2.0, 112, 112))
    row = {**schemas.training_row({"sample_id": "s", "task": "video_qa", "video_key": "v", "query": "q",
                                   "choices": ["a", "b"], "answer_index": 0}, video), "_pos": 0}
    spill, budget_bytes, row_bytes = Spill(str(tmp_path / "spill"), 10, budget=8 * 2**20), 8 * 2**20, sum(map(len, frames))
    for i in range(40):
        spill.add({**row, "_pos": i})
        assert spill.pending <= budget_bytes / 4 + row_bytes
        assert spill.buffered <= budget_bytes + budget_bytes / 4 + row_bytes
    spill.flush()
    assert spill.bucket(3).column("_pos").to_pylist() == list(range(30, 40))


PEAK = """
import json, sys
from pipelines.mix import parse_recipe
from pipelines.mix.join import write_shards
from pipelines.mix.select import select

def peak():
    return next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:")) * 1024

folder, out, total = sys.argv[1], sys.argv[2], int(sys.argv[3])
sel = select(parse_recipe({"seed": 1, "total": total, "sources": [{"path": folder, "weight": 1}]}, "/"))
base = peak()
shards = write_shards(sel.rows, out, 64, think=True, spill_bytes=8 * 2**20)
print(json.dumps({"base": base, "peak": peak(), "bytes": sum(s["bytes"] for s in shards)}))
"""


def test_the_join_peak_memory_does_not_grow_with_the_mixture(folder, tmp_path):
    """Eight times the rows (and bytes) through the join, each in a fresh process: the peak above the
    process's size before the join grows by a small fraction of the added output (measured: +10 MB for
    +150 MB; holding the rows would add all of it)."""
    runs = []
    for total in (240, 1920):
        res = subprocess.run([sys.executable, "-c", PEAK, folder, str(tmp_path / str(total)), str(total)], cwd=ROOT,
                             capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
        assert res.returncode == 0, res.stderr[-2000:]
        runs.append(json.loads(res.stdout.strip().splitlines()[-1]))
    small, large = runs
    grown = (large["peak"] - large["base"]) - (small["peak"] - small["base"])
    assert large["bytes"] > 7 * small["bytes"] and large["bytes"] - small["bytes"] > 140 * 2**20
    assert grown < 0.25 * (large["bytes"] - small["bytes"]), (small, large)
