"""`vrft label` on the tiny model: one row per sample whose statistics are those of its logged
completions scored directly; the same table for the same seed whatever the batching and the worker
threads (one model per process); a run that fails midway resumes to the same table without labelling
the finished units again; ingestion folders with unreadable or missing frames are labelled with the
skips named; the Dataflow graph builds without a cloud."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import polars as pl
import pytest

import rewards
import train.label.handler
import train.label.output
from pipelines import labels, layout
from pipelines import synthetic_ingested as synthetic
from rewards.profiles import Read, _PROFILES
from schemas import FORMAT
from train.label.inputs import plan
from train.label.job import run_label
from train.label.settings import LabelSettings, load_label_config
from train.synthetic_training_shards import toy_row, write_shard
from vrft.cli import main

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "train" / "configs" / "tiny_cpu.yaml"
PROFILE = "test-by-length"


class ByLength:
    """A profile whose values depend on the completion's text, so random completions get spread: format
    1 for an even length, the answer component (len % 5) / 4, unreadable when the length is a multiple of 3."""

    name = PROFILE
    include_given = False

    def claims(self, task):
        return True

    def can_score(self, task, part):
        return True

    def read(self, task, completion, truth):
        return Read({p.tag: None if len(completion) % 3 == 0 else completion for p in task.parts}, True)

    def score(self, task, completion, truth):
        out = {FORMAT: float(len(completion) % 2 == 0)}
        out.update({p.component: (len(completion) % 5) / 4 for p in task.parts})
        return out


@pytest.fixture(scope="module")
def by_length():
    rewards.register_profile(ByLength())
    yield PROFILE
    _PROFILES.remove(PROFILE)


@pytest.fixture(scope="module")
def label_shards(tmp_path_factory):
    """7 rows in 2 files, row groups of 2 (4 units); the second file repeats sample toy-00000."""
    folder = tmp_path_factory.mktemp("label-shards")
    write_shard(folder / "part-00000.parquet", [toy_row(i) for i in range(3)], row_group_size=2)
    write_shard(folder / "part-00001.parquet", [toy_row(i) for i in (3, 4, 5, 0)], row_group_size=2)
    return folder


def settings(model_dir, profile, **run):
    cfg = load_label_config(str(TINY), [f"model.path={model_dir}", f"reward.profile={profile}", "rollout.group_size=3",
                                        "rollout.max_new_tokens=6", "rollout.top_k=40", "rollout.temperature=1.2"])
    return LabelSettings.of(cfg, "fingerprint-of-the-tiny-model", **{"seed": 7, "keep_completions": True, **run})


def table(out, name=labels.LABELS) -> pl.DataFrame:
    return pl.read_parquet(layout.parts(str(out), name)).sort("sample_id", *(["completion"] if name != labels.LABELS else []))


@pytest.fixture(scope="module")
def first_run(tiny_model_dir, label_shards, by_length, tmp_path_factory):
    out = tmp_path_factory.mktemp("labels") / "a"
    result = run_label(str(label_shards), str(out), settings(tiny_model_dir, by_length, batch_size=4))
    return out, result.manifest


def test_one_row_per_sample_with_the_statistics_of_its_logged_completions(first_run, label_shards):
    out, manifest = first_run
    got, done = table(out), table(out, labels.COMPLETIONS)
    assert got["sample_id"].to_list() == [f"toy-{i:05d}" for i in range(6)]      # the repeat labelled once
    assert manifest["samples"] == {"in": 7, "labelled": 6, "skipped": 1}
    assert manifest["skipped_by_reason"] == {"duplicate": 1}
    truths = {f"toy-{i:05d}": json.loads(toy_row(i)["reward_model"]["ground_truth"]) for i in range(6)}
    for row in got.iter_rows(named=True):
        mine = done.filter(pl.col("sample_id") == row["sample_id"])
        texts = mine["text"].to_list()
        assert mine["completion"].to_list() == [0, 1, 2] and len(texts) == 3
        scored = rewards.score_batch("temporal_grounding", texts, [truths[row["sample_id"]]] * 3, PROFILE)
        fmt, iou = scored.components["format"], scored.components["iou"]
        totals = [f + i for f, i in zip(fmt, iou)]                               # the task's weights: 1 and 1
        assert row["reward_mean"] == pytest.approx(statistics.mean(totals), abs=1e-12)
        assert row["reward_std"] == pytest.approx(statistics.stdev(totals), abs=1e-12)
        assert row["iou_mean"] == pytest.approx(statistics.mean(iou), abs=1e-12)
        assert row["format_std"] == pytest.approx(statistics.stdev(fmt), abs=1e-12)
        assert row["accuracy_mean"] is None                                      # not a component of this task
        assert row["success"] == pytest.approx(sum(f == 1 and i >= 0.5 for f, i in zip(fmt, iou)) / 3)
        assert row["unparsed"] == pytest.approx(sum(len(t) % 3 == 0 for t in texts) / 3)
        assert row["completion_length"] == pytest.approx(statistics.mean(mine["tokens"].to_list()))
        assert (row["model"], row["profile"], row["group_size"], row["seed"]) == (
            "fingerprint-of-the-tiny-model", PROFILE, 3, 7)
    assert got["reward_std"].max() > 0 and got["success"].max() > 0               # not a table of zeros
    assert manifest["tasks"]["temporal_grounding"]["samples"] == 6


def test_the_same_seed_gives_the_same_table_whatever_the_batching_and_threads(
        first_run, tiny_model_dir, label_shards, by_length, tmp_path, monkeypatch):
    """Batches of one prompt on two worker threads: the same bytes of labels and completions, and one
    model loaded for the process (Beam's shared handle), not one per thread."""
    loads = []
    real = train.label.handler.load
    monkeypatch.setattr(train.label.handler, "load", lambda s: (loads.append(1), real(s))[1])
    out = tmp_path / "b"
    run_label(str(label_shards), str(out), settings(tiny_model_dir, by_length, batch_size=1),
              ["--direct_num_workers=2", "--direct_running_mode=multi_threading"])
    assert len(loads) == 1
    a, _ = first_run
    assert table(out).equals(table(a)) and table(out, labels.COMPLETIONS).equals(table(a, labels.COMPLETIONS))
    other, batches = tmp_path / "c", []
    real_sample = train.label.handler.sample
    monkeypatch.setattr(train.label.handler, "sample", lambda m, p, seed: (batches.append(len(p)), real_sample(m, p, seed))[1])
    run_label(str(label_shards), str(other), settings(tiny_model_dir, by_length, batch_size=4, seed=8))
    assert batches == [4, 2]            # full batches from the first (Beam's adaptive batching starts at 1)
    assert table(other, labels.COMPLETIONS)["text"].to_list() != table(a, labels.COMPLETIONS)["text"].to_list()


class Killed(Exception):
    pass


def test_a_run_that_dies_midway_resumes_to_the_same_table(first_run, tiny_model_dir, label_shards, by_length,
                                                          tmp_path, monkeypatch):
    out = tmp_path / "r"
    real_write = train.label.output.write_unit
    written = []

    def dies_at_the_second_unit(*args, **kwargs):
        if written:
            raise Killed
        written.append(args[1])
        return real_write(*args, **kwargs)

    monkeypatch.setattr(train.label.output, "write_unit", dies_at_the_second_unit)
    with pytest.raises(Exception, match="Killed"):
        run_label(str(label_shards), str(out), settings(tiny_model_dir, by_length))
    assert len(labels.finished_units(str(out))) == 1 and not (out / "manifest.json").exists()
    monkeypatch.setattr(train.label.output, "write_unit", real_write)

    sampled = []
    real_sample = train.label.handler.sample
    monkeypatch.setattr(train.label.handler, "sample",
                        lambda m, prompts, seed: (sampled.extend(p.example.sample_id for p in prompts), real_sample(m, prompts, seed))[1])
    with pytest.raises(Exception, match="not empty"):
        run_label(str(label_shards), str(out), settings(tiny_model_dir, by_length))
    with pytest.raises(Exception, match="differ: seed"):
        run_label(str(label_shards), str(out), settings(tiny_model_dir, by_length, seed=9), resume=True)
    result = run_label(str(label_shards), str(out), settings(tiny_model_dir, by_length), resume=True)
    finished = plan(str(label_shards)).units[written[0]].samples
    assert sorted(sampled) == sorted(set(f"toy-{i:05d}" for i in range(6)) - set(finished))  # nothing twice
    assert result.manifest["resumed_units"] == 1 and result.manifest["samples"]["labelled"] == 6
    a, _ = first_run
    assert table(out).equals(table(a)) and table(out, labels.COMPLETIONS).equals(table(a, labels.COMPLETIONS))


def test_an_ingestion_folder_is_labelled_and_what_cannot_be_shown_is_named(tiny_model_dir, by_length, tmp_path):
    videos = synthetic.make_videos(3, n_frames=4, seed=2)
    samples = synthetic.make_samples(videos, 5, ("temporal_grounding", "video_qa"), 2)  # 2, 1, 2 per video
    videos[1]["frame_crc32"] = [c ^ 1 for c in videos[1]["frame_crc32"]]      # a corrupted video
    folder = synthetic.write_ingested(str(tmp_path / "ingested"), samples, [videos[0], videos[1]])  # the third unframed
    out = tmp_path / "labels"
    manifest = run_label(folder, str(out), settings(tiny_model_dir, by_length, keep_completions=False)).manifest
    by_video = {}
    for s in samples:
        by_video.setdefault(s["video_key"], []).append(s["sample_id"])
    assert [len(by_video[v["video_key"]]) for v in videos] == [2, 1, 2]
    got = table(out)
    assert sorted(got["sample_id"].to_list()) == sorted(by_video[videos[0]["video_key"]])
    assert manifest["skipped_by_reason"] == {"frames_unreadable": 1, "no_frames": 2}
    assert manifest["samples"] == {"in": 5, "labelled": 2, "skipped": 3}
    assert set(got["task"].to_list()) <= {"temporal_grounding", "video_qa"}
    assert not (out / labels.COMPLETIONS).exists()


def test_cli_refusals_and_the_dataflow_graph_without_a_cloud(tiny_model_dir, label_shards, tmp_path, capsys):
    base = ["label", str(label_shards), "--config", str(TINY), f"model.path={tiny_model_dir}"]
    remote = ["--runner", "DataflowRunner", "--project=my-project", "--region=us-central1",
              "--temp_location=gs://bucket/tmp", "--accelerator", "type:nvidia-l4;count:1;install-nvidia-driver"]
    assert main([*base, "--out", "gs://bucket/labels", *remote, "--dry-run"]) == 0
    shown = capsys.readouterr().out
    for stage in ("Units", "Spread", "ReadUnits", "Generate", "Score", "WriteUnits", "WriteEmptyUnits"):
        assert stage in shown
    assert "4 units, 6 samples" in shown and "--setup_file=" in shown and "nothing was run" in shown
    assert main([*base, "--out", "gs://bucket/labels", *remote[:2], "--dry-run"]) == 2
    assert "needs --project" in capsys.readouterr().err
    assert main([*base, "rollout.group_size=1", "--out", str(tmp_path / "x")]) == 2
    assert "rollout.group_size must be >= 2" in capsys.readouterr().err
    assert main([*base, "loss.beta=0", "--out", str(tmp_path / "x")]) == 2
    assert "reads only the model, rollout, reward sections" in capsys.readouterr().err
    assert main(["label", str(tmp_path), "--config", str(TINY), f"model.path={tiny_model_dir}", "--out", str(tmp_path / "y")]) == 2
    assert "no training shards" in capsys.readouterr().err
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()


def test_the_accelerator_hint_reaches_the_generation_step(tiny_model_dir, label_shards, by_length):
    import apache_beam as beam

    from train.label.job import build

    s = settings(tiny_model_dir, by_length, accelerator="type:nvidia-l4;count:1;install-nvidia-driver")
    p = beam.Pipeline(options=beam.options.pipeline_options.PipelineOptions(["--runner=FnApiRunner"]))
    build(p, plan(str(label_shards)).units, 4, s, "/nowhere")
    proto = p.to_runner_api()
    hinted = {t.unique_name for t in proto.components.transforms.values()
              if any(b"nvidia-l4" in v for v in proto.components.environments[t.environment_id].resource_hints.values())
              if t.environment_id}
    assert hinted and all(name.startswith("Generate") for name in hinted)


def test_the_label_folder_is_held_as_vrft_holds_its_outputs(first_run, tiny_model_dir, label_shards, by_length, tmp_path):
    """Inputs apart, one command at a time, another kind of output and strangers refused (pipelines/outputs.py)."""
    import socket

    from pipelines import outputs
    from schemas.errors import UserError

    assert layout.kind_of(str(first_run[0])) == labels.KIND      # marked: `vrft mix --out` there is refused
    s = settings(tiny_model_dir, by_length)
    before = sorted(p.name for p in label_shards.iterdir())
    for out in (label_shards, label_shards / "labels", Path(tiny_model_dir) / "labels"):
        with pytest.raises(UserError, match="vrft never writes where its inputs are"):
            run_label(str(label_shards), str(out), s, overwrite=True)
    assert sorted(p.name for p in label_shards.iterdir()) == before

    stranger = tmp_path / "mine"
    stranger.mkdir()
    (stranger / "notes.txt").write_text("keep me")
    with pytest.raises(UserError, match=r"holds files vrft did not write \(notes.txt\)"):
        run_label(str(label_shards), str(stranger), s, overwrite=True)
    assert (stranger / "notes.txt").read_text() == "keep me"

    other = tmp_path / "ingested"
    other.mkdir()
    outputs.mark(str(other), layout.INGEST, layout.ENTRIES[layout.INGEST])
    with pytest.raises(UserError, match="holds a vrft ingest output, not reward labels"):
        run_label(str(label_shards), str(other), s, overwrite=True)

    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / outputs.LOCK).write_text(json.dumps({"pid": 1, "host": socket.gethostname(), "command": "label", "since": 0}))
    with pytest.raises(UserError, match="is in use by vrft label"):
        run_label(str(label_shards), str(busy), s)
    assert sorted(p.name for p in busy.iterdir()) == [outputs.LOCK]

