"""Two processes (gloo, CPU) on the tiny model: each reads its own rows, both hold the same weights after
every step, the update and the logged metrics equal one process holding the whole batch (every
aggregation x mask_truncated x advantage scale), each samples with its own RNG, a stop + resume equals
the uninterrupted run, and FSDP2 (torch `fully_shard`, wrapped as accelerate_fsdp.yaml says) can
generate and train. One torchrun launch serves all of them (tests/train/two_processes.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from tests.train import two_processes as mp
from tests.train.conftest import e_share
from train.synthetic_training_shards import write_toy_shards

ROWS = 8  # 4 steps of 2 processes x 1 prompt


@pytest.fixture(scope="module")
def small_shards(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("mp-shards")
    write_toy_shards(folder, rows=ROWS, files=2)
    return folder


@pytest.fixture(scope="module")
def launched(tmp_path_factory, tiny_model_dir, small_shards) -> Path:
    out = tmp_path_factory.mktemp("mp")
    mp.launch(out, tiny_model_dir, small_shards)
    return out


def runs(out: Path) -> list[dict]:
    return [json.loads((out / f"runs-rank{r}.json").read_text()) for r in (0, 1)]


def test_each_process_reads_its_own_rows_and_together_the_whole_epoch(launched):
    ranks = [[set(s["ids"]) for s in r["steps"]] for r in runs(launched)]
    assert [len(steps) for steps in ranks] == [ROWS // 2] * 2
    seen = [ids for steps in ranks for ids in steps]
    everything = set().union(*seen)
    assert everything == {f"toy-{i:05d}" for i in range(ROWS)} and sum(map(len, seen)) == ROWS  # each row once


def test_both_processes_hold_the_same_weights_after_every_step(launched):
    a, b = runs(launched)
    assert [s["weights"] for s in a["steps"]] == [s["weights"] for s in b["steps"]]
    assert len({s["weights"] for s in a["steps"]}) == ROWS // 2  # and they changed every step


def test_each_process_samples_with_its_own_random_numbers(launched):
    a, b = runs(launched)
    assert all(x["rng"] != y["rng"] for x, y in zip(a["steps"], b["steps"]))


def test_logged_metrics_are_over_both_processes(launched):
    a, b = runs(launched)
    logged = [json.loads(x) for x in (launched / "a" / "metrics.jsonl").read_text().splitlines()]
    assert [x["step"] for x in logged] == [1, 2, 3, 4]
    for line, x, y in zip(logged, a["steps"], b["steps"]):
        rewards = torch.tensor(x["rewards"] + y["rewards"], dtype=torch.float64)
        assert line["reward/mean"] == pytest.approx(rewards.mean().item(), rel=1e-6)
        assert line["reward/std"] == pytest.approx(rewards.std().item(), rel=1e-5)
        assert line["reward/max"] == pytest.approx(rewards.max().item(), rel=1e-6)
        assert line["tokens"] == x["tokens"] + y["tokens"]
        assert line["completion_tokens"] == x["completion_tokens"] + y["completion_tokens"]
        assert x["rewards"] != y["rewards"]  # so rank 0's own numbers would not pass


def test_stop_and_resume_under_two_processes_equals_the_uninterrupted_run(launched):
    a, b = runs(launched)
    assert a["resumed_from"].endswith("step-0000002")
    first, second = (load_file(launched / run / "final" / "model.safetensors") for run in ("a", "b"))
    assert first.keys() == second.keys() and all(torch.equal(first[k], second[k]) for k in first)
    same = ("reward/mean", "loss", "kl", "lr", "grad_norm", "tokens")
    assert [[h[k] for k in same] for h in a["history"][2:]] == [[h[k] for k in same] for h in a["resumed_history"]]
    logged = [json.loads(x)["step"] for x in (launched / "b" / "metrics.jsonl").read_text().splitlines()]
    assert logged == [1, 2, 3, 4]  # step 3 ran twice, logged once


COMPARED = ("reward/mean", "reward/std", "reward/e_share", "advantage/mean", "advantage/std", "advantage/min",
            "advantage/max", "completion_length/mean", "completion_length/std", "truncated_share",
            "zero_spread_groups", "loss", "policy_loss", "kl", "clip_fraction", "tokens", "completion_tokens")


@pytest.fixture(scope="module")
def one_process(launched, tiny_model_dir, small_shards, tmp_path_factory):
    """The same replayed batch on one process holding both prompts, every combination."""
    from train.trainer import GRPOTrainer

    cfg = mp.config(tiny_model_dir, small_shards, tmp_path_factory.mktemp("one"), "data.prompts_per_step=2",
                    *mp.COMBO_OVERRIDES)
    trainer = GRPOTrainer(cfg, score_fn=e_share)
    return mp.run_combos(trainer)


def test_two_processes_make_the_update_of_one_process_holding_the_whole_batch(launched, one_process):
    ranks = [torch.load(launched / f"combos-rank{r}.pt") for r in (0, 1)]
    assert ranks[0]["ids"] + ranks[1]["ids"] == one_process["ids"]  # the same rows, in the same order
    truncated = [m["truncated_share"] for m in one_process["metrics"]]
    assert all(0 < t < 1 for t in truncated)  # some completions cut off, some ended: masking matters
    wrong = []
    for k, combo in enumerate(mp.COMBOS):
        whole, first, second = one_process["grads"][k], ranks[0]["grads"][k], ranks[1]["grads"][k]
        assert whole.keys() == first.keys() and len(whole) > 10
        assert all(torch.equal(first[name], second[name]) for name in whole), combo
        if not all(torch.allclose(first[name], g, rtol=1e-4, atol=1e-8) for name, g in whole.items()):
            wrong.append(combo)
    assert not wrong, f"gradients differ from one process's in {wrong}"
    for k, combo in enumerate(mp.COMBOS):  # the step's metrics too, reduced over both processes
        for key in COMPARED:
            assert ranks[0]["metrics"][k][key] == pytest.approx(one_process["metrics"][k][key], rel=1e-5, abs=1e-7), (combo, key)
    # the combinations are not all the same update
    norms = {combo: sum(g.abs().sum().item() for g in grads.values()) for combo, grads in zip(mp.COMBOS, one_process["grads"])}
    assert len({round(v, 6) for v in norms.values()}) > len(norms) // 2


def test_fsdp2_generates_and_trains_like_the_unwrapped_model(launched):
    for rank in (0, 1):
        res = json.loads((launched / f"fsdp-rank{rank}.json").read_text())
        assert "error" not in res, res.get("error")
        assert {"", "model.visual.blocks.0", "model.language_model.layers.0"} <= set(res["units"])
        for rnd in (0, 1):  # before the step and after it (the outermost unit resharded by backward)
            assert res[f"sequences_{rnd}"]["sharded"] == res[f"sequences_{rnd}"]["plain"]
        assert res["max_moved"] > 1e-3 and res["max_weight_diff"] < 1e-5
