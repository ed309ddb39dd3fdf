"""Each training config key changes what it claims to change, by the formula.

The loss pieces are checked on a hand-made micro-batch where the aggregations differ (sequences of
different lengths, one with no trained token, so sequences != batch). The trainer is checked through
`run_training` on the tiny model, one step per config, with a scripted reward (the real reward on known
answers instead of the policy's random text) so every reward and advantage is known by hand, and a
model that often ends its completions early (several end-of-sequence ids), so completion lengths
differ and some completions are truncated.
"""

from __future__ import annotations

import json
import math
import shutil
import statistics

import pytest
import torch
from safetensors.torch import load_file

from tests.train.conftest import TEST_RUN, TINY_CONFIG
from train.config import load_config
from train.losses import Totals, policy_loss
from train.scoring import score_rows

# --- the loss pieces ------------------------------------------------------------------------------

# 4 sequences, lengths 3, 2, 1 and 0 (the last one trains nothing): 6 tokens, 3 sequences, batch 4.
LOGP = [[-1.0, -0.5, -2.0], [-0.3, -1.2, -0.7], [-0.9, -0.1, -1.5], [-2.2, -0.4, -0.6]]
MASK = [[1, 1, 1], [1, 1, 0], [1, 0, 0], [0, 0, 0]]
ADV = [1.5, -0.5, -1.0, 2.0]
MAX_NEW = 5
TOTALS = Totals(sequences=3, tokens=6, max_new_tokens=MAX_NEW, batch=4)


def first_pass(aggregation: str, totals: Totals = TOTALS, mask=MASK):
    """Loss and d loss / d logp on the first pass (ratio 1), no KL."""
    logp = torch.tensor(LOGP, dtype=torch.float64, requires_grad=True)
    parts = policy_loss(logp, None, None, torch.tensor(ADV, dtype=torch.float64), torch.tensor(mask), beta=0.0,
                        epsilon_low=0.2, epsilon_high=0.2, aggregation=aggregation, totals=totals)
    parts.loss.backward()
    return parts.loss.item(), logp.grad.tolist()


# Per-token weight of each aggregation on this batch, by hand: token-mean 1/tokens, sequence-mean
# 1/(own length x sequences that train), Dr. GRPO 1/(batch x max_new_tokens).
WEIGHTS = {
    "token-mean": [[1 / 6] * 3, [1 / 6] * 3, [1 / 6] * 3, [1 / 6] * 3],
    "sequence-mean": [[1 / 9] * 3, [1 / 6] * 3, [1 / 3] * 3, [0.0] * 3],
    "dr-grpo": [[1 / 20] * 3, [1 / 20] * 3, [1 / 20] * 3, [1 / 20] * 3],
}


@pytest.mark.parametrize("aggregation", list(WEIGHTS))
def test_each_aggregation_weighs_tokens_as_its_formula(aggregation):
    """With ratio 1 the per-token loss is -A, so d loss / d logp[i, j] = -A_i x weight on trained tokens."""
    loss, grad = first_pass(aggregation)
    w = WEIGHTS[aggregation]
    want = [[-ADV[i] * w[i][j] * MASK[i][j] for j in range(3)] for i in range(4)]
    assert grad == [pytest.approx(row, abs=1e-15) for row in want]
    assert loss == pytest.approx(sum(map(sum, want)), abs=1e-15)


def test_the_aggregations_give_three_different_updates():
    grads = {mode: first_pass(mode)[1] for mode in WEIGHTS}
    assert grads["token-mean"] != grads["sequence-mean"] != grads["dr-grpo"] != grads["token-mean"]


def test_dr_grpo_divides_by_the_whole_batch_and_sequence_mean_by_the_sequences_that_train():
    """The two counts differ here (4 sequences, 3 of them train): each divisor is the one its formula names."""
    _, dr = first_pass("dr-grpo")
    assert dr[0][0] == pytest.approx(-ADV[0] / (4 * MAX_NEW), abs=1e-15)  # not / (3 * MAX_NEW)
    _, seq = first_pass("sequence-mean")
    assert seq[2][0] == pytest.approx(-ADV[2] / (1 * 3), abs=1e-15)  # not / (1 * 4)


@pytest.mark.parametrize("aggregation", list(WEIGHTS))
def test_a_batch_with_no_trained_token_has_zero_loss_not_nan(aggregation):
    empty = Totals(sequences=0, tokens=0, max_new_tokens=MAX_NEW, batch=4)
    loss, grad = first_pass(aggregation, empty, mask=[[0, 0, 0]] * 4)
    assert loss == 0.0 and grad == [[0.0] * 3] * 4


@pytest.mark.parametrize("aggregation", list(WEIGHTS))
def test_one_trained_token_is_its_own_mean(aggregation):
    one = Totals(sequences=1, tokens=1, max_new_tokens=1, batch=1)
    logp = torch.tensor([[-0.7]], dtype=torch.float64, requires_grad=True)
    parts = policy_loss(logp, None, None, torch.tensor([0.5], dtype=torch.float64), torch.tensor([[1]]), beta=0.0,
                        epsilon_low=0.2, epsilon_high=0.2, aggregation=aggregation, totals=one)
    assert parts.loss.item() == -0.5 and parts.policy.item() == -0.5 and parts.tokens.item() == 1


def test_the_logged_statistics_are_means_over_the_trained_tokens():
    """policy: the surrogate's token mean (ratio 1: -A); kl: the k3 token mean; beta weighs the KL into the loss."""
    ref = [[-1.1, -0.7, -1.8], [-0.2, -1.0, -0.9], [-1.0, -0.2, -1.2], [-2.0, -0.5, -0.9]]
    logp = torch.tensor(LOGP, dtype=torch.float64, requires_grad=True)
    parts = policy_loss(logp, None, torch.tensor(ref, dtype=torch.float64), torch.tensor(ADV, dtype=torch.float64),
                        torch.tensor(MASK), beta=0.1, epsilon_low=0.2, epsilon_high=0.2, aggregation="token-mean",
                        totals=TOTALS)
    trained = [(i, j) for i in range(4) for j in range(3) if MASK[i][j]]
    k3 = {(i, j): math.exp(ref[i][j] - LOGP[i][j]) - (ref[i][j] - LOGP[i][j]) - 1 for i, j in trained}
    assert parts.tokens.item() == 6
    assert parts.policy.item() == pytest.approx(sum(-ADV[i] for i, _ in trained) / 6, abs=1e-15)
    assert parts.kl.item() == pytest.approx(sum(k3.values()) / 6, rel=1e-12)
    assert parts.loss.item() == pytest.approx(sum(-ADV[i] + 0.1 * k3[i, j] for i, j in trained) / 6, rel=1e-12)


@pytest.mark.parametrize(
    "adv, old, low, high",
    [
        (0.5, -1.2, 0.0, 1.0),    # ratio e^0.5 = 1.65 > 1.2 with A > 0: clipped above (an A below 1 counts)
        (-0.5, -0.2, 1.0, 0.0),   # ratio e^-0.5 = 0.61 < 0.8 with A < 0: clipped below (an A above -1 counts)
        (0.5, -0.2, 0.0, 0.0),    # ratio below the range but A > 0: min() takes the unclipped term
        (-0.5, -1.2, 0.0, 0.0),
        (0.0, -1.2, 0.0, 0.0),    # no advantage: nothing binds
        (0.0, -0.2, 0.0, 0.0),
    ],
)
def test_the_clip_statistics_count_the_tokens_the_clip_binds(adv, old, low, high):
    parts = policy_loss(torch.tensor([[-0.7]], dtype=torch.float64), torch.tensor([[old]], dtype=torch.float64), None,
                        torch.tensor([adv], dtype=torch.float64), torch.tensor([[1]]), beta=0.0, epsilon_low=0.2,
                        epsilon_high=0.2, aggregation="token-mean", totals=Totals(1, 1, 1, 1))
    assert (parts.clip_low.item(), parts.clip_high.item()) == (low, high)


def test_at_the_edge_of_the_range_nothing_is_clipped():
    """Epsilon 0 and ratio exactly 1 (the first pass): the clipped and unclipped terms are equal."""
    for adv in (1.0, -1.0):
        parts = policy_loss(torch.tensor([[-0.7]]), None, None, torch.tensor([adv]), torch.tensor([[1]]), beta=0.0,
                            epsilon_low=0.0, epsilon_high=0.0, aggregation="token-mean", totals=Totals(1, 1, 1, 1))
        assert (parts.clip_low.item(), parts.clip_high.item()) == (0.0, 0.0)


def test_group_scaling_is_the_default_and_unknown_names_are_named():
    from train.losses import aggregate, group_advantages

    rewards = torch.tensor([1.0, 0.0, 3.0, 1.0])
    assert torch.equal(group_advantages(rewards, 2), group_advantages(rewards, 2, "group"))
    assert group_advantages(rewards, 2).tolist() == pytest.approx(
        [0.5 / (statistics.stdev([1, 0]) + 1e-4), -0.5 / (statistics.stdev([1, 0]) + 1e-4),
         1.0 / (statistics.stdev([3, 1]) + 1e-4), -1.0 / (statistics.stdev([3, 1]) + 1e-4)])
    with pytest.raises(ValueError, match="^unknown advantage scale 'median'$"):
        group_advantages(rewards, 2, "median")
    with pytest.raises(ValueError, match="^unknown aggregation 'sum'$"):
        aggregate(torch.zeros(1, 1), torch.ones(1, 1), "sum", Totals(1, 1, 1, 1))


# --- the trainer, one step per config -------------------------------------------------------------

# Answer k of each step (rows are prompt-major: 2 prompts x 4): with or without thinking, covering
# the first `share` of the truth span. Default profile: format 1 when thinking, IoU = share.
SCRIPT = [(True, 1.0), (True, 0.5), (False, 0.25), (True, 0.75), (False, 1.0), (True, 0.25), (True, 0.5), (False, 0.5)]
FORMAT = [1.0 if think else 0.0 for think, _ in SCRIPT]
IOU = [share for _, share in SCRIPT]


def scripted_answers(truths):
    out = []
    for (think, share), t in zip(SCRIPT, truths):
        s, e = t["span"]["start"], t["span"]["end"]
        answer = f"<answer>{s} to {s + (e - s) * share}</answer>"
        out.append(("<think>t</think>" if think else "") + answer)
    return out


def scripted_reward(task, completions, truths, profile="default", weights=None):
    """The real reward, on the scripted answers instead of the policy's text."""
    import rewards

    return rewards.score_batch(task, scripted_answers(truths), truths, profile, weights)


def test_score_rows_weighs_each_component_as_configured():
    truths = [{"span": {"start": 0.5, "end": 1.0}, "duration": 2.0}] * 8
    weights = {"temporal_grounding": {"format": 0.5, "iou": 2.0}}
    total, comps = score_rows(scripted_reward, ["temporal_grounding"] * 8, [""] * 8, truths, "default", weights)
    assert total.tolist() == pytest.approx([0.5 * f + 2.0 * i for f, i in zip(FORMAT, IOU)])
    assert comps["iou"].tolist() == pytest.approx(IOU) and comps["temporal_grounding/format"].tolist() == FORMAT
    default, _ = score_rows(scripted_reward, ["temporal_grounding"] * 8, [""] * 8, truths, "default", {})
    assert default.tolist() == pytest.approx([f + i for f, i in zip(FORMAT, IOU)])
    # the components are the task's own, bare and under the task's name; the total is not one of them
    assert sorted(comps) == ["format", "iou", "temporal_grounding/format", "temporal_grounding/iou"]


def test_a_reward_of_nan_stops_the_step_with_a_message():
    """A reward function that returns NaN (a bug in a custom scorer) is named, rather than training on NaN."""
    from types import SimpleNamespace

    def nan_reward(task, completions, truths, profile="default", weights=None):
        return SimpleNamespace(total=[1.0, math.nan], components={"format": [1.0, 1.0]})

    truths = [{"span": {"start": 0.5, "end": 1.0}, "duration": 2.0}] * 2
    with pytest.raises(RuntimeError) as err:
        score_rows(nan_reward, ["temporal_grounding"] * 2, ["", ""], truths, "default", {})
    assert str(err.value) == "the reward function returned NaN"


def _one_optimizer_step(max_grad_norm: float):
    """The trainer's optimizer step on a two-weight model whose gradient is (6, 8), norm 10, beside a frozen
    weight holding a gradient of 100 (not the trained weights': left out of the norm); plain SGD at lr 1 on the
    trained weights, the linear schedule over 2 steps:
    -> (the norm it reports, the move of the trained weights, lr for the next step, gradient left)."""
    from types import SimpleNamespace

    from accelerate import Accelerator

    from train.trainer import GRPOTrainer, lr_lambda

    model = torch.nn.Linear(2, 1)
    with torch.no_grad():
        model.weight.zero_()
        model.bias.fill_(5.0)
    model.bias.requires_grad_(False)
    model.weight.grad, model.bias.grad = torch.tensor([[6.0, 8.0]]), torch.tensor([100.0])
    optimizer = torch.optim.SGD([model.weight], lr=1.0)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda("linear", 0, 2))
    trainer = SimpleNamespace(cfg=SimpleNamespace(optim=SimpleNamespace(max_grad_norm=max_grad_norm)), model=model,
                              accelerator=Accelerator(), optimizer=optimizer, scheduler=scheduler)
    norm = GRPOTrainer._optimizer_step(trainer)
    return norm, (-model.weight.detach()).flatten().tolist(), optimizer.param_groups[0]["lr"], model.weight.grad


def test_max_grad_norm_clips_the_step_and_zero_turns_clipping_off():
    norm, moved, lr, grad = _one_optimizer_step(1.0)
    assert norm == pytest.approx(10.0)                            # the norm before clipping is what is logged
    assert moved == pytest.approx([0.6, 0.8])                     # the step is the gradient scaled to norm 1
    assert lr == pytest.approx(0.5) and grad is None              # the schedule steps; the gradients are cleared
    norm, moved, *_ = _one_optimizer_step(0.0)                    # 0 = no clipping
    assert norm == pytest.approx(10.0) and moved == pytest.approx([6.0, 8.0])
    assert _one_optimizer_step(20.0)[1] == pytest.approx([6.0, 8.0])   # a bound above the norm changes nothing


@pytest.fixture(scope="module")
def early_ending_model(tiny_model_dir, tmp_path_factory):
    """The tiny model with every fifth token id also an end-of-sequence id: completions of many lengths."""
    folder = tmp_path_factory.mktemp("early") / "model"
    shutil.copytree(tiny_model_dir, folder)
    gen = json.loads((folder / "generation_config.json").read_text())
    eos = gen["eos_token_id"] if isinstance(gen["eos_token_id"], list) else [gen["eos_token_id"]]
    gen["eos_token_id"] = eos + list(range(20, 512, 5))
    (folder / "generation_config.json").write_text(json.dumps(gen))
    return folder


@pytest.fixture(scope="module")
def one_step(early_ending_model, shards, tmp_path_factory):
    """overrides -> (metrics of the one step, its samples, the weights it moved), cached per config."""
    from train.trainer import run_training

    done = {}

    def run(*overrides: str):
        if overrides not in done:
            out = tmp_path_factory.mktemp("run")
            cfg = load_config(TINY_CONFIG, [
                *TEST_RUN, f"model.path={early_ending_model}", f"data.shards={shards}", f"run.out={out}", "run.progress=false",
                "run.tensorboard=false", "run.steps=1", "run.save_every=0", "run.sample_every=1",
                "run.samples_shown=8", "loss.beta=0", "loss.mask_truncated=true", "optim.max_grad_norm=0",
                *overrides,
            ])
            metrics = run_training(cfg, score_fn=scripted_reward)["history"][0]
            samples = [json.loads(x) for x in (out / "samples.jsonl").read_text().splitlines()]
            start, end = load_file(early_ending_model / "model.safetensors"), load_file(out / "final" / "model.safetensors")
            moved = max((end[k] - start[k]).abs().max().item() for k in start)
            done[overrides] = metrics, samples, moved
        return done[overrides]

    return run


@pytest.mark.slow
def test_reward_weights_change_the_reward_the_trainer_uses(one_step):
    _, default, _ = one_step()
    _, weighted, _ = one_step("reward.weights={temporal_grounding: {format: 0.5, iou: 2.0}}")
    assert [r["reward"] for r in default] == pytest.approx([f + i for f, i in zip(FORMAT, IOU)], abs=1e-4)
    assert [r["reward"] for r in weighted] == pytest.approx([0.5 * f + 2 * i for f, i in zip(FORMAT, IOU)], abs=1e-4)
    assert [r["advantage"] for r in weighted] != [r["advantage"] for r in default]


def expected_advantages(rewards: list[float], scale: str) -> list[float]:
    out = []
    for g in (rewards[:4], rewards[4:]):
        mean = sum(g) / 4
        div = {"group": statistics.stdev(g) + 1e-4, "batch": statistics.stdev(rewards) + 1e-4, "none": 1.0}[scale]
        out += [(r - mean) / div for r in g]
    return out


@pytest.mark.slow
@pytest.mark.parametrize("scale", ["group", "batch", "none"])
def test_advantage_scale_scales_as_configured(one_step, scale):
    _, samples, _ = one_step() if scale == "group" else one_step(f"loss.advantage_scale={scale}")
    rewards = [f + i for f, i in zip(FORMAT, IOU)]
    assert [r["advantage"] for r in samples] == pytest.approx(expected_advantages(rewards, scale), abs=2e-4)


def trained_tokens(m: dict) -> float:
    """Completion tokens minus those of truncated completions (each max_new_tokens long, masked here)."""
    return m["completion_tokens"] - m["truncated_share"] * 8 * 8


@pytest.mark.slow
def test_the_fixture_has_truncated_and_early_ending_completions(one_step):
    m, _, _ = one_step()
    assert 0 < m["truncated_share"] < 1 and 0 < trained_tokens(m) < m["completion_tokens"]


@pytest.mark.slow
def test_the_aggregation_sets_the_scale_of_the_update(one_step):
    """Same rollout, same advantages: Dr. GRPO's gradient is token-mean's x trained tokens / (batch x
    max_new_tokens); sequence-mean weighs sequences, a third gradient."""
    token, _, _ = one_step("loss.aggregation=token-mean")
    dr, _, _ = one_step("loss.aggregation=dr-grpo")
    seq, _, _ = one_step()  # the tiny config's sequence-mean
    assert dr["grad_norm"] / token["grad_norm"] == pytest.approx(trained_tokens(token) / (8 * 8), rel=1e-4)
    assert len({token["grad_norm"], dr["grad_norm"], seq["grad_norm"]}) == 3


@pytest.mark.slow
def test_gradient_clipping_bounds_the_update(one_step):
    """AdamW's first step moves each weight by lr x g / (|g| + eps): about lr unclipped; clipped to a norm
    of 1e-10, |g| <= 1e-10 and no weight moves more than lr x 1e-10 / (1e-10 + eps)."""
    lr, eps, max_norm = 1e-3, 1e-8, 1e-10
    free, _, moved_free = one_step()
    clipped, _, moved_clipped = one_step(f"optim.max_grad_norm={max_norm}")
    assert clipped["grad_norm"] == free["grad_norm"] > 1e-3  # the norm before clipping, the same rollout
    assert moved_free > 0.5 * lr
    assert moved_clipped < lr * max_norm / (max_norm + eps) * 1.01
