"""Every bad number, name and path is refused before any work: one line naming the key, exit status 2.

Each case runs the real command line (`vrft.cli.main`) with everything else valid, and the work that
would follow (loading the model, running Beam, mixing, generating) replaced by a tripwire: a case that
is not refused up front reaches the tripwire and fails.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from vrft.cli import main


def run_cli(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as stop:  # argparse's refusals
        return int(stop.code)


@pytest.fixture
def tripwires(monkeypatch):
    def tripped(*args, **kwargs):
        raise AssertionError("the work started: the value was not refused up front")

    import pipelines.ingest.run
    import pipelines.mix
    import train.trainer
    import vrft.commands.eval

    monkeypatch.setattr(train.trainer, "run_training", tripped)
    monkeypatch.setattr(pipelines.ingest.run, "run_ingest", tripped)
    monkeypatch.setattr(pipelines.mix, "run_mix", tripped)
    monkeypatch.setattr(vrft.commands.eval, "predict_model", tripped)


@pytest.fixture
def inputs(tmp_path, tiny_model_dir, shards):
    """Valid inputs for every command, and the bad files some cases need."""
    (tmp_path / "ingested" / "samples").mkdir(parents=True)
    (tmp_path / "bad.yaml").write_text("model:\n  path: x\n   dtype: auto\n")
    for name, weight in (("nan", ".nan"), ("inf", ".inf")):
        (tmp_path / f"{name}.yaml").write_text(f"sources:\n  - path: a\n    weight: {weight}\n  - path: b\n    weight: 1\n")
    frameless = tmp_path / "frameless"
    frameless.mkdir()
    table = pq.read_table(sorted(shards.rglob("*.parquet"))[0])
    videos = pa.array([[]] * table.num_rows, type=table.schema.field("videos").type)
    pq.write_table(table.set_column(table.schema.get_field_index("videos"), table.schema.field("videos"), videos),
                   frameless / "part-00000.parquet")
    (tmp_path / "ann.jsonl").write_text("")
    return {"model": tiny_model_dir, "shards": shards, "tmp": tmp_path}


TRAIN = "train/configs/tiny_cpu.yaml"
TRAIN_CASES = [  # (override, what the message names)
    ("optim.lr=inf", "optim.lr"),
    ("optim.lr=.nan", "optim.lr"),
    ("rollout.temperature=inf", "rollout.temperature"),
    ("loss.beta=inf", "loss.beta"),
    ("rollout.top_k=-5", "rollout.top_k"),
    ("optim.betas=[0.9]", "optim.betas"),
    ("optim.betas=[0.9, 1.5]", "optim.betas"),
    ("optim.betas=fast", "optim.betas"),
    ("optim.weight_decay=-0.1", "optim.weight_decay"),
    ("optim.eps=0", "optim.eps"),
    ("reward.profile=nope", "reward.profile"),
    ("model.attn_implementation=magic", "model.attn_implementation"),
    ("reward.weights={temporal_grounding: {iou: high}}", "reward.weights.temporal_grounding.iou"),
    ("reward.weights={temporal_grounding: {iou: .nan}}", "reward.weights.temporal_grounding.iou"),
    ("reward.weights={temporal_grounding: {iou: -1}}", "reward.weights.temporal_grounding.iou"),
    ("run.steps=-1", "run.steps"),
    ("data.epochs=0", "data.epochs"),
    ("data.prefetch=0", "data.prefetch"),
    ("data.prefetch=-3", "data.prefetch"),
    ("optim.warmup_steps=-1", "optim.warmup_steps"),
    ("optim.max_grad_norm=-1", "optim.max_grad_norm"),
    ("model.lora_rank=-1", "model.lora_rank"),
    ("run.save_every=-1", "run.save_every"),
    ("run.seed=-1", "run.seed"),
    ("model.path=hub:not an id", "model.path"),
]


def _train(inputs, *extra):
    return ["train", TRAIN, f"model.path={inputs['model']}", f"data.shards={inputs['shards']}",
            f"run.out={inputs['tmp'] / 'run'}", *extra]


CASES = [(lambda i, o=o: _train(i, o), key) for o, key in TRAIN_CASES] + [
    (lambda i: ["train", str(i["tmp"] / "bad.yaml")], "bad.yaml:3:9"),                  # malformed YAML: its position
    (lambda i: _train(i, f"data.shards={i['tmp'] / 'ingested'}"), "data.shards"),         # an ingestion folder
    (lambda i: _train(i, f"data.shards={i['tmp'] / 'frameless' / 'part-*.parquet'}"), "no frames"),         # labels-only shards
    (lambda i: _train(i, f"model.path={i['tmp'] / 'no-model'}"), "model.path"),          # no hub for a local path
    (lambda i: ["ingest", "jsonl", "--annotations", str(i["tmp"] / "ann.jsonl"), "--out", str(i["tmp"] / "o"),
                "--video-timeout", "0"], "--video-timeout"),
    (lambda i: ["ingest", "jsonl", "--annotations", "a", "--out", "o", "--clip-tolerance", "-1"], "--clip-tolerance"),
    (lambda i: ["ingest", "jsonl", "--annotations", "a", "--out", "o", "--clip-tolerance", "nan"], "--clip-tolerance"),
    (lambda i: ["ingest", "jsonl", "--annotations", "a", "--out", "o", "--videos-per-part", "0"], "--videos-per-part"),
    (lambda i: ["ingest", "jsonl", "--annotations", "a", "--out", "o", "--label-shards", "0"], "--label-shards"),
    (lambda i: ["ingest", "jsonl", "--annotations", "a", "--out", "o", "--min-frames", "900"], "min_frames"),
    (lambda i: ["mix", str(i["tmp"] / "nan.yaml"), "--out", str(i["tmp"] / "m")], "sources[0].weight"),
    (lambda i: ["mix", str(i["tmp"] / "inf.yaml"), "--out", str(i["tmp"] / "m")], "sources[0].weight"),
    (lambda i: ["eval", "--model", str(i["model"]), "--data", str(i["shards"]), "--out", str(i["tmp"] / "e"),
                "--max-new-tokens", "0"], "--max-new-tokens"),
    (lambda i: ["eval", "--model", str(i["model"]), "--data", str(i["shards"]), "--out", str(i["tmp"] / "e"),
                "--batch-size", "-2"], "--batch-size"),
]


@pytest.mark.parametrize("argv, key", CASES, ids=[k if not isinstance(k, str) else f"{n}-{k}"
                                                   for n, (_, k) in enumerate(CASES)])
def test_refused_up_front_naming_the_key(argv, key, inputs, tripwires, capsys):
    assert run_cli(argv(inputs)) == 2
    err = capsys.readouterr().err
    assert key in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
