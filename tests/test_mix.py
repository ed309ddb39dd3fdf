"""`vrft mix`: proportions, determinism, leakage, round trips, and the shards as HF datasets and verl read them."""

from __future__ import annotations

import glob
import json
import math
import os
import shutil
import subprocess
import sys

import numpy as np
import polars as pl
import pyarrow.parquet as pq
import pytest
import yaml

import schemas
from pipelines import synthetic_ingested as synthetic
from pipelines.mix import RECIPES_DIR, LeakageError, RecipeError, load_recipe, parse_recipe, run_mix
from pipelines.mix import allocate
from pipelines.mix.join import MixDataError, write_shards
from pipelines.mix.select import select
from tests.conftest import ROOT

SMALL = os.path.join(RECIPES_DIR, "small.yaml")


def _folder(root, name, n, n_videos, tasks, prefix, seed, split="train", frames=True, edit=None):
    videos = synthetic.make_videos(n_videos, n_frames=4, seed=seed, prefix=prefix)
    samples = synthetic.make_samples(videos, n, tasks, seed, dataset=name, split=split)
    if edit:
        edit(samples)
    return synthetic.write_ingested(str(root / name), samples, videos if frames else [], frames=frames)


def _grounding_edits(samples):
    for s in samples[:5]:
        s["query"] = "door."                       # one word: the query_words filter drops these
    for k in (10, 11):                             # copies of row 20 under other ids: dedup drops them
        samples[k] = {**samples[20], "sample_id": samples[k]["sample_id"], "query": "  " + samples[20]["query"].upper()}


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    r = tmp_path_factory.mktemp("ingested")
    _folder(r, "grounding_train", 600, 100, ("temporal_grounding",), "g", 1, edit=_grounding_edits)
    _folder(r, "qa_train", 400, 80, ("grounded_qa", "video_qa"), "q", 2)
    _folder(r, "grounding_test", 100, 30, ("temporal_grounding",), "t", 3, split="test")
    # a training folder on 60 videos, half of them the test set's (same keys, as a re-annotation would)
    _folder(r, "leaky_train", 60, 60, ("temporal_grounding",), "t", 3)
    _folder(r, "labels_only", 50, 10, ("temporal_grounding",), "n", 4, frames=False)
    return r


def _recipe(root, **overrides):
    raw = yaml.safe_load(open(SMALL))
    raw.update(overrides)
    return parse_recipe(raw, str(root))


def _entry(v):
    """The training layout of a videos row, written out by hand: HF images, qwen_vl_utils' keys, vrft's."""
    return {"video": [{"bytes": f, "path": None} for f in v["frames"]], "sample_fps": v["sampled_fps"],
            "resized_height": v["frame_height"], "resized_width": v["frame_width"], "timestamps": v["timestamps"],
            "frame_crc32": v["frame_crc32"]}


def _read(out):
    files = sorted(glob.glob(f"{out}/part-*.parquet"))
    return pl.concat([pl.read_parquet(f) for f in files]), files


@pytest.fixture(scope="module")
def small(root, tmp_path_factory):
    out = tmp_path_factory.mktemp("mix") / "small"
    return run_mix(_recipe(root), str(out)), out


def test_weighted_mixture_realises_the_shares(small):
    result, _ = small
    m = result.manifest
    g, q = m["sources"]
    assert g["dropped"] == {"filter_query_words": 5, "duplicate": 2}
    assert (g["eligible"], q["eligible"]) == (593, 400)
    # weights 3:1 and no total: the largest mixture that repeats nothing is limited by grounding
    n = math.floor(593 / 0.75)
    assert m["rows"] == n and g["repeated"] == q["repeated"] == 0
    for s, asked in ((g, 0.75), (q, 0.25)):
        assert s["requested_share"] == asked
        assert abs(s["realised_share"] - asked) <= 1 / n            # largest remainder: within one row
    # within the qa source, the draw keeps its task mix up to sampling error (hypergeometric, 4 sd)
    k, pop = q["selected"], q["eligible"]
    sd = math.sqrt(k * 0.5 * 0.5 * (pop - k) / (pop - 1)) / k
    assert abs(q["by_task"]["grounded_qa"] / k - 0.5) <= 4 * sd
    assert sum(m["tasks"][t]["rows"] for t in m["tasks"]) == n


def test_rows_round_trip_and_are_shuffled(small, root):
    result, out = small
    rows, files = _read(out)
    assert [f.rsplit("/", 1)[1] for f in files] == [f"part-{i:05d}-of-{len(files):05d}.parquet" for i in range(len(files))]
    assert all(pq.ParquetFile(f).metadata.num_rows <= 64 for f in files)
    samples = {r["sample_id"]: r for d in ("grounding_train", "qa_train")
               for r in pl.read_parquet(f"{root}/{d}/samples/*.parquet").to_dicts()}
    videos = {r["video_key"]: r for d in ("grounding_train", "qa_train")
              for r in pl.read_parquet(f"{root}/{d}/videos/*.parquet").to_dicts()}
    assert rows["extra_info"].struct.field("index").to_list() == list(range(len(rows)))
    for r in rows.to_dicts():
        s, v = samples[r["sample_id"]], videos[r["video_key"]]
        assert r["video_key"] == s["video_key"] and r["think"] is False
        assert r["prompt"] == schemas.render_prompt(schemas.get_task(s["task"]), s, think=False)
        assert r["videos"] == [_entry(v)]
        assert json.loads(r["reward_model"]["ground_truth"]) == json.loads(json.dumps(schemas.ground_truth(s, think=False)))
    # shuffled: the two sources are interleaved, not concatenated
    first = rows["dataset"][:100].to_list()
    assert 40 < first.count("grounding_train") < 100


def test_same_seed_same_bytes_other_seed_other_order(small, root, tmp_path):
    result, out = small
    again = run_mix(_recipe(root), str(tmp_path / "again"))
    _, files = _read(out)
    _, files2 = _read(tmp_path / "again")
    assert [open(a, "rb").read() for a in files] == [open(b, "rb").read() for b in files2]
    strip = lambda m: {k: v for k, v in m.items() if k != "timings"}  # noqa: E731
    assert strip(again.manifest) == strip(json.load(open(f"{out}/manifest.json")))
    other = run_mix(_recipe(root, seed=8), str(tmp_path / "other"))
    ids = _read(out)[0]["sample_id"].to_list()
    ids2 = _read(tmp_path / "other")[0]["sample_id"].to_list()
    assert len(ids) == len(ids2) == other.manifest["rows"] and ids != ids2


def test_spilling_often_gives_the_same_shards(small, root, tmp_path):
    """The bucketed join is exact whatever the spill budget (here: one spill file per row)."""
    _, out = small
    sel = select(_recipe(root))
    write_shards(sel.rows, str(tmp_path), 64, think=False, spill_bytes=1)
    _, files = _read(out)
    assert [open(f, "rb").read() for f in files] == [open(tmp_path / os.path.basename(f), "rb").read() for f in files]
    assert set(os.listdir(tmp_path)) == {os.path.basename(f) for f in files}   # no spill or staging left


def test_leakage_refused_dropped_or_allowed(root, tmp_path):
    sources = [{"name": "leaky", "path": "leaky_train"}, {"name": "grounding", "path": "grounding_train"}]
    with pytest.raises(LeakageError) as err:
        select(_recipe(root, sources=sources))
    keys = lambda d: pl.read_parquet(f"{root}/{d}/samples/*.parquet")["video_key"]  # noqa: E731
    shared = sorted(set(keys("leaky_train")) & set(keys("grounding_test")))
    leaked_rows = int(keys("leaky_train").is_in(shared).sum())
    assert 10 < len(shared) and 0 < leaked_rows < 60
    msg = str(err.value)
    assert f"{leaked_rows} training rows on {len(shared)} evaluation videos (leaky vs grounding_test)" in msg
    assert ", ".join(shared[:10]) in msg and f"and {len(shared) - 10} more" in msg
    dropped = run_mix(_recipe(root, sources=sources, leakage="drop"), str(tmp_path / "d")).manifest
    assert dropped["sources"][0]["dropped"] == {"leakage": leaked_rows}
    assert dropped["sources"][0]["eligible"] == 60 - leaked_rows
    assert not set(_read(tmp_path / "d")[0]["video_key"].to_list()) & set(shared)
    allowed = run_mix(_recipe(root, sources=sources, leakage="allow"), str(tmp_path / "a")).manifest
    assert allowed["leaked_videos_allowed"] == shared and allowed["sources"][0]["eligible"] == 60


def test_hf_datasets_loads_the_shards_and_verl_scores_a_row(small, tmp_path):
    import datasets

    from rewards import compute_score

    result, out = small
    files = sorted(glob.glob(f"{out}/part-*.parquet"))
    ds = datasets.load_dataset("parquet", data_files=files, split="train", cache_dir=str(tmp_path / "hf"))
    assert ds.num_rows == result.manifest["rows"]
    assert {"data_source", "prompt", "videos", "reward_model", "extra_info"} <= set(ds.column_names)
    by_task = {}
    for row in ds:
        by_task.setdefault(row["task"], row)
        if len(by_task) == 3:
            break
    g = by_task["temporal_grounding"]
    truth = json.loads(g["reward_model"]["ground_truth"])
    span = truth["span"]
    good = f"<answer>{span['start']:.2f} to {span['end']:.2f}</answer>"
    score = compute_score(g["data_source"], good, g["reward_model"]["ground_truth"], g["extra_info"])
    assert score["format"] == 1.0 and score["iou"] > 0.99
    bad = compute_score(g["data_source"], "<answer>no idea</answer>", g["reward_model"]["ground_truth"], g["extra_info"])
    assert bad["iou"] == 0.0
    q = by_task["video_qa"]
    letter = "ABCDE"[json.loads(q["reward_model"]["ground_truth"])["answer_index"]]
    assert compute_score(q["data_source"], f"<answer>{letter}</answer>", q["reward_model"]["ground_truth"])["accuracy"] == 1.0


def test_sources_without_frames(root, tmp_path):
    with pytest.raises(RecipeError, match="frames: optional"):
        select(_recipe(root, sources=[{"path": "labels_only"}]))
    m = run_mix(_recipe(root, sources=[{"path": "labels_only", "frames": "optional"}]), str(tmp_path)).manifest
    assert m["rows"] == 50 and m["sources"][0]["no_frames"] == 50
    rows, _ = _read(tmp_path)
    assert all(v == [] for v in rows["videos"].to_list())


def test_frames_override_for_every_source_is_recorded(root, tmp_path):
    recipe = _recipe(root, sources=[{"path": "labels_only"}, {"path": "qa_train"}]).with_frames("optional")
    assert [s.frames for s in recipe.sources] == ["optional", "optional"]
    m = run_mix(recipe, str(tmp_path)).manifest
    assert m["sources"][0]["no_frames"] == 50 and m["sources"][1]["no_frames"] == 0
    assert [s["frames"] for s in m["recipe_given"]["sources"]] == ["optional", "optional"]


def test_every_missing_source_is_named_at_once(root, tmp_path):
    recipe = _recipe(root, sources=[{"path": "qa_train"}, {"name": "a", "path": "gone_a"}, {"name": "b", "path": "gone_b"}],
                     evaluation=[{"name": "c", "path": "gone_c"}, {"path": "grounding_test"}])
    with pytest.raises(RecipeError) as err:
        run_mix(recipe, str(tmp_path / "mix"))
    assert not (tmp_path / "mix").exists()   # refused before the output folder is touched
    msg = str(err.value)
    assert "for 3 of the recipe's sources" in msg and "\n" not in msg
    assert all(f"{n} ({root / ('gone_' + n)}" in msg for n in "abc") and "evaluation" in msg and "qa_train" not in msg


def test_temperature_and_total(root):
    sizes = [593, 400]
    sel = select(_recipe(root, temperature=2.0, total=1000, sources=[
        {"name": "g", "path": "grounding_train"}, {"name": "q", "path": "qa_train"}]))
    want = allocate.shares(sizes, temperature=2.0)
    assert np.allclose(want, [math.sqrt(593) / (math.sqrt(593) + math.sqrt(400)), 20 / (math.sqrt(593) + 20)])
    assert [s.selected for s in sel.stats] == allocate.largest_remainder(1000, want)
    # T = 2 flattens the shares (0.55 / 0.45): 1000 rows need 451 from the 400 qa rows, so 51 repeat
    assert sel.stats[1].selected == 451 and sel.stats[1].repeated == 51 and sel.stats[0].repeated == 0
    assert sel.rows.filter(pl.col("_source") == 1)["sample_id"].n_unique() == 400


def test_allocation_arithmetic():
    assert allocate.largest_remainder(10, [1 / 3] * 3) == [4, 3, 3]
    assert allocate.counts([10, 5], allocate.shares([10, 5]), None, proportional=True) == [10, 5]
    assert allocate.counts([100, 10], [0.5, 0.5], None, proportional=False) == [10, 10]
    assert allocate.counts([100, 10], [1.0, 0.0], None, proportional=False) == [100, 0]
    idx = allocate.draw(4, 10, np.random.default_rng(0))
    assert sorted(np.bincount(idx).tolist()) == [2, 2, 3, 3]


@pytest.mark.parametrize("change, message", [
    ({"colour": 1}, "unknown key"),
    ({"sources": [{"path": "a", "weight": 1}, {"path": "b"}]}, "every source a weight"),
    ({"temperature": 2.0}, "use one"),
    ({"sources": [{"path": "a", "task": "dancing"}]}, "not a declared task"),
    ({"leakage": "maybe"}, "leakage"),
    ({"filters": {"duration": {"min": 5, "max": 1}}}, "min 5.0 > max 1.0"),
    ({"filters": {"loudness": {"min": 1}}}, "unknown filter"),
    ({"rows_per_shard": 0}, "positive"),
])
def test_recipe_mistakes_are_named(change, message):
    raw = yaml.safe_load(open(SMALL))
    raw.update(change)
    with pytest.raises(RecipeError, match=message):
        parse_recipe(raw, "/nowhere")


def test_shipped_recipes_parse():
    paths = sorted(glob.glob(os.path.join(RECIPES_DIR, "*.yaml")))
    assert {os.path.basename(p) for p in paths} >= {"videochat_r1.yaml", "small.yaml"}
    for p in paths:
        load_recipe(p, root="/data")
    paper = load_recipe(os.path.join(RECIPES_DIR, "videochat_r1.yaml"), root="/data")
    assert not paper.weighted and paper.total is None          # plain concatenation: shares by size
    assert [s.tasks for s in paper.sources] == [("temporal_grounding",), ("tracking",), ("grounded_qa",)]
    assert [e.name for e in paper.evaluation] == ["charades_sta_test", "nextgqa_test", "got10k_val"]


def test_cli(root, tmp_path):
    def run(*args):
        return subprocess.run([sys.executable, "-m", "vrft", "mix", *args], cwd=ROOT, capture_output=True, text=True)

    out = tmp_path / "o"
    res = run(SMALL, "--root", str(root), "--out", str(out))
    assert res.returncode == 0, res.stderr
    assert "share got" in res.stdout and "0.750" in res.stdout and "wrote 790 rows in 13 shards" in res.stdout
    res = run(SMALL, "--root", str(root), "--out", str(out))
    assert res.returncode == 2 and "--overwrite" in res.stderr
    assert run(SMALL, "--root", str(root), "--out", str(out), "--overwrite").returncode == 0
    leaky = tmp_path / "leaky.yaml"
    raw = yaml.safe_load(open(SMALL))
    raw["sources"] = [{"path": "leaky_train"}]
    leaky.write_text(yaml.safe_dump(raw))
    res = run(str(leaky), "--root", str(root), "--out", str(tmp_path / "x"))
    assert res.returncode == 2 and "evaluation videos" in res.stderr and "Traceback" not in res.stderr
    shutil.rmtree(out)


# ---- mixtures of shards ingested from the real files -----------------------------------------------


def _real_recipe(real_ingested, **top):
    sources = [
        {"name": "charades_sta_train", "path": str(real_ingested("charades_sta_train")), "weight": 3, "frames": "optional"},
        {"name": "nextgqa_val", "path": str(real_ingested("nextgqa_val")), "weight": 1, "frames": "optional"},
        {"name": "got_val", "path": str(real_ingested("got_val")), "weight": 1, "frames": "optional"},
    ]
    return parse_recipe({"seed": 3, "total": 2000, "rows_per_shard": 500, "sources": sources,
                         "evaluation": [{"path": str(real_ingested("charades_sta_test"))}], **top}, "/")


def test_real_weighted_mixture_shares_determinism_and_round_trip(real_ingested, tmp_path):
    m = run_mix(_real_recipe(real_ingested), str(tmp_path / "a")).manifest
    n = 2000
    # 2000 rows at 3:1:1; GOT-10k val has 180 rows, so its 400 repeat rows (and say so)
    assert [s["selected"] for s in m["sources"]] == [1200, 400, 400]
    assert m["sources"][2]["eligible"] == 180 and m["sources"][2]["repeated"] == 220
    for s, asked in zip(m["sources"], (0.6, 0.2, 0.2)):
        assert abs(s["realised_share"] - asked) <= 1 / n
    assert m["tasks"] == {"grounded_qa": {"rows": 400, "share": 0.2}, "temporal_grounding": {"rows": 1200, "share": 0.6},
                          "tracking": {"rows": 400, "share": 0.2}}
    # Charades-STA train and test share no video: the guard lets the mixture through
    assert m["leaked_videos_allowed"] == []
    again = run_mix(_real_recipe(real_ingested), str(tmp_path / "b")).manifest
    files = sorted(glob.glob(f"{tmp_path}/a/part-*.parquet"))
    assert len(files) == 4 and again["shards"] == m["shards"]
    assert all(open(f, "rb").read() == open(f.replace("/a/", "/b/"), "rb").read() for f in files)
    rows, _ = _read(tmp_path / "a")
    samples = {}
    for name in ("charades_sta_train", "nextgqa_val", "got_val"):
        samples.update({r["sample_id"]: r for r in pl.read_parquet(f"{real_ingested(name)}/samples/*.parquet").to_dicts()})
    for r in rows.to_dicts():
        s = samples[r["sample_id"]]
        assert r["prompt"] == schemas.render_prompt(schemas.get_task(s["task"]), s, think=True)
        assert json.loads(r["reward_model"]["ground_truth"]) == json.loads(json.dumps(schemas.ground_truth(s)))
        assert r["videos"] == []                                  # labels-only sources (frames: optional)


def test_real_charades_test_video_refused_in_training(real_ingested, tmp_path):
    clip = str(real_ingested("charades_clip"))
    raw = {"sources": [{"name": "clip", "path": clip}], "evaluation": [
        {"name": "charades_sta_test", "path": str(real_ingested("charades_sta_test")), "split": "test"}]}
    with pytest.raises(LeakageError, match=r"1 training rows on 1 evaluation videos \(clip vs charades_sta_test\): 93REJ"):
        run_mix(parse_recipe(raw, "/"), str(tmp_path / "refused"))
    assert not (tmp_path / "refused").exists()
    # allowed on purpose: the row carries the real frames, their times and fps, and the truth
    m = run_mix(parse_recipe({**raw, "leakage": "allow"}, "/"), str(tmp_path / "o")).manifest
    assert m["leaked_videos_allowed"] == ["93REJ"]
    (row,) = _read(tmp_path / "o")[0].to_dicts()
    (video,) = pl.read_parquet(f"{clip}/videos/*.parquet").to_dicts()
    (sample,) = pl.read_parquet(f"{clip}/samples/*.parquet").to_dicts()
    assert row["video_key"] == "93REJ" and len(video["frames"]) == 60
    assert row["videos"] == [_entry(video)]
    truth = json.loads(row["reward_model"]["ground_truth"])
    assert truth["span"] == {"start": 3.4, "end": 10.5} and truth["duration"] == sample["duration"]
    assert row["prompt"] == schemas.render_prompt(schemas.get_task("temporal_grounding"), sample, think=True)
    assert 'this happens: "person drinking from a cup."' in row["prompt"][0]["content"]


def test_a_failed_join_leaves_no_shard_behind(tmp_path):
    videos = synthetic.make_videos(6, n_frames=4, prefix="x")
    videos[4]["frames"] = []                   # timestamps without frames: a contradiction the join finds
    synthetic.write_ingested(str(tmp_path / "bad"), synthetic.make_samples(videos, 40, ("temporal_grounding",)), videos)
    (tmp_path / "r.yaml").write_text("rows_per_shard: 8\nsources: [{path: bad}]\n")
    out = tmp_path / "out"
    res = subprocess.run([sys.executable, "-m", "vrft", "mix", str(tmp_path / "r.yaml"), "--out", str(out)],
                         cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 2 and "video x000004: 0 frames and 4 timestamps" in res.stderr
    assert os.listdir(out) == [".vrft-owned.json"]  # the marker the run started with; no shard, no manifest, no lock


@pytest.mark.parametrize("how, message", [
    ("flipped", r"video x000002: frames \[1\] of 4 do not match their checksums \(run `vrft validate` on it\)"),
    ("truncated", r"video x000002: frames \[2\] of 4 do not match their checksums"),
    ("nan_time", r"video x000002: frame times not finite at frames \[3\]"),
    ("nan_label", r"sample synthetic-train-\d+: labels or duration not finite"),
])
def test_mix_refuses_corrupted_frames_and_non_finite_values(tmp_path, how, message):
    videos = synthetic.make_videos(4, n_frames=4, prefix="x")
    samples = synthetic.make_samples(videos, 12, ("temporal_grounding",))
    v = videos[2]
    if how == "flipped":                    # 16 bytes flipped inside a stored JPEG (after it was written)
        data = bytearray(v["frames"][1])
        data[100:116] = bytes(b ^ 0xFF for b in data[100:116])
        v["frames"][1] = bytes(data)
    elif how == "truncated":
        v["frames"][2] = v["frames"][2][: len(v["frames"][2]) // 2]
    elif how == "nan_time":
        v["timestamps"][3] = math.nan
    else:
        s = next(s for s in samples if s["video_key"] == "x000001")
        s["span"] = {"start": math.nan, "end": 2.0}
    synthetic.write_ingested(str(tmp_path / "src"), samples, videos)
    with pytest.raises(MixDataError, match=message):
        run_mix(parse_recipe({"sources": [{"path": "src"}]}, str(tmp_path)), str(tmp_path / "out"))
    assert not list((tmp_path / "out").glob("part-*"))


def test_the_trainer_reads_the_shards_in_order(small):
    """train.data (the GRPO trainer's reader) decodes `vrft mix` output: frames, times, fps, truth."""
    from train.data import decode_row, iter_rows, shard_files

    result, out = small
    files = shard_files(str(out))
    assert [f.name for f in files] == [s["file"] for s in result.manifest["shards"]]
    seen = 0
    for index, row in iter_rows(files, start=100):
        ex = decode_row(index, row)
        assert ex.index == index and ex.frames.shape == (len(ex.timestamps), 56, 56, 3)
        assert ex.fps > 0 and ex.truth["task"] == ex.task and ex.messages[0]["content"].startswith(schemas.VIDEO_PLACEHOLDER)
        seen += 1
    assert seen == result.manifest["rows"] - 100
