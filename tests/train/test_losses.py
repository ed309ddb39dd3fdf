"""Each loss variant against its formula, computed independently with plain Python on a fixed micro-batch."""

from __future__ import annotations

import math
import statistics

import pytest
import torch

from train.losses import Totals, aggregate, group_advantages, k3_kl, policy_loss, zero_spread_groups

# A fixed micro-batch: 4 sequences (2 groups of G = 2), 3 completion positions.
LOGP = [[-1.0, -0.5, -2.0], [-0.3, -1.2, -0.7], [-0.9, -0.1, -1.5], [-2.2, -0.4, -0.6]]
OLD = [[-1.4, -0.5, -1.0], [-0.3, -0.2, -0.7], [-0.9, -0.6, -1.5], [-1.0, -0.4, -0.6]]
REF = [[-1.1, -0.7, -1.8], [-0.2, -1.0, -0.9], [-1.0, -0.2, -1.2], [-2.0, -0.5, -0.9]]
MASK = [[1, 1, 1], [1, 1, 0], [1, 0, 0], [1, 1, 1]]
ADV = [1.5, -0.5, -1.0, 2.0]
EPS_LOW, EPS_HIGH, BETA, MAX_NEW = 0.2, 0.28, 0.04, 5


def per_token_reference(i: int, j: int, old_is_current: bool) -> float:
    """-min(r A, clip(r) A) + beta * (exp(ref - logp) - (ref - logp) - 1), one token, by hand."""
    lp = LOGP[i][j]
    ratio = 1.0 if old_is_current else math.exp(lp - OLD[i][j])
    clipped = min(max(ratio, 1 - EPS_LOW), 1 + EPS_HIGH)
    surrogate = -min(ratio * ADV[i], clipped * ADV[i])
    d = REF[i][j] - lp
    return surrogate + BETA * (math.exp(d) - d - 1)


def expected_loss(mode: str, old_is_current: bool) -> float:
    tok = [[per_token_reference(i, j, old_is_current) for j in range(3)] for i in range(4)]
    trained = [[tok[i][j] for j in range(3) if MASK[i][j]] for i in range(4)]
    if mode == "token-mean":
        return sum(map(sum, trained)) / sum(map(len, trained))
    if mode == "sequence-mean":
        return statistics.mean(sum(t) / len(t) for t in trained)
    return sum(map(sum, trained)) / (4 * MAX_NEW)   # dr-grpo


def run(mode: str, with_old: bool, rows=slice(None)):
    t = lambda x: torch.tensor(x, dtype=torch.float64)[rows]  # noqa: E731
    mask = torch.tensor(MASK)
    totals = Totals(sequences=4, tokens=int(mask.sum()), max_new_tokens=MAX_NEW, batch=4)
    return policy_loss(
        t(LOGP).requires_grad_(), t(OLD) if with_old else None, t(REF), t(ADV), mask[rows],
        beta=BETA, epsilon_low=EPS_LOW, epsilon_high=EPS_HIGH, aggregation=mode, totals=totals,
    )


@pytest.mark.parametrize("mode", ["token-mean", "sequence-mean", "dr-grpo"])
@pytest.mark.parametrize("with_old", [False, True], ids=["first-pass", "old-logprobs"])
def test_loss_matches_formula(mode, with_old):
    got = run(mode, with_old).loss.item()
    assert got == pytest.approx(expected_loss(mode, old_is_current=not with_old), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("mode", ["token-mean", "sequence-mean", "dr-grpo"])
def test_micro_batches_add_up_to_the_batch_loss(mode):
    whole = run(mode, True).loss.item()
    parts = run(mode, True, slice(0, 1)).loss.item() + run(mode, True, slice(1, 4)).loss.item()
    assert parts == pytest.approx(whole, rel=1e-12)


def test_first_pass_gradient_is_advantage_over_length():
    """With ratio 1 and beta 0, d loss / d logp[i, j] = -A_i / |o_i| / B for sequence-mean (the reference)."""
    logp = torch.tensor(LOGP, dtype=torch.float64, requires_grad=True)
    mask = torch.tensor(MASK)
    parts = policy_loss(
        logp, None, None, torch.tensor(ADV, dtype=torch.float64), mask, beta=0.0, epsilon_low=0.2,
        epsilon_high=0.2, aggregation="sequence-mean", totals=Totals(4, int(mask.sum()), MAX_NEW, 4),
    )
    parts.loss.backward()
    for i in range(4):
        n = sum(MASK[i])
        for j in range(3):
            want = -ADV[i] / n / 4 if MASK[i][j] else 0.0
            assert logp.grad[i, j].item() == pytest.approx(want, abs=1e-12)


def test_clip_statistics_count_binding_clips():
    parts = run("token-mean", True)
    # ratio = exp(logp - old): (0,0) e^0.4 > 1.28 with A > 0 -> high; (1,1) e^-1 < 0.8 with A < 0 -> low;
    # (2,1) is masked; (3,0) e^-1.2 < 0.8 but A > 0 -> not binding.
    n = sum(map(sum, MASK))
    assert parts.clip_high.item() == pytest.approx(1 / n)
    assert parts.clip_low.item() == pytest.approx(1 / n)


def test_k3_is_the_k3_formula_and_nonnegative():
    lp, ref = torch.tensor(LOGP, dtype=torch.float64).flatten(), torch.tensor(REF, dtype=torch.float64).flatten()
    got = k3_kl(lp, ref)
    want = [math.exp(r - p) - (r - p) - 1 for p, r in zip(lp.tolist(), ref.tolist())]
    assert got.tolist() == pytest.approx(want, rel=1e-12)
    assert (got >= 0).all() and k3_kl(lp, lp).abs().max() == 0


REWARDS = [1.0, 0.0, 0.5, 0.5, 2.0, 1.0, 0.0, 3.0]


@pytest.mark.parametrize("scale", ["group", "batch", "none"])
def test_group_advantages(scale):
    G = 4
    got = group_advantages(torch.tensor(REWARDS, dtype=torch.float64), G, scale).tolist()
    want = []
    for g in range(0, len(REWARDS), G):
        grp = REWARDS[g : g + G]
        mean = sum(grp) / G
        div = {"group": statistics.stdev(grp) + 1e-4, "batch": statistics.stdev(REWARDS) + 1e-4, "none": 1.0}[scale]
        want += [(r - mean) / div for r in grp]
    assert got == pytest.approx(want, rel=1e-12)


def test_flat_group_gets_zero_advantage_and_is_counted():
    r = torch.tensor([1.0, 1.0, 1.0, 0.0, 1.0, 0.5])
    adv = group_advantages(r, 3, "group")
    assert adv[:3].abs().max() == 0
    assert zero_spread_groups(r, 3).tolist() == [True, False]


def test_unknown_names_raise():
    with pytest.raises(ValueError):
        group_advantages(torch.zeros(4), 2, "median")
    with pytest.raises(ValueError):
        aggregate(torch.zeros(2, 2), torch.ones(2, 2), "sum", Totals(2, 4, 2, 2))
