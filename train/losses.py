"""GRPO's pure pieces: advantage estimators, the k3 KL estimator, the clipped surrogate, aggregation.

No model, no state: tensors in, tensors out, so each variant can be checked against its formula on a
hand-made micro-batch. Shapes: B sequences (= prompts x G), T completion positions.

Aggregations (how per-token losses become one number; `totals` are counted over the whole rollout batch
of every process (train/distributed.py), so splitting it into micro-batches or processes does not change
the gradient):
  token-mean     sum(loss * mask) / trained tokens                       (DAPO, TRL's "dapo")
  sequence-mean  mean over sequences of sum(loss * mask) / own tokens    (the reference's GRPO)
  dr-grpo        sum(loss * mask) / (sequences * max_new_tokens)         (Dr. GRPO: no length bias)
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

ADV_EPS = 1e-4  # the reference's (r - mean) / (std + 1e-4)


def group_advantages(rewards: torch.Tensor, group_size: int, scale: str = "group") -> torch.Tensor:
    """[B] rewards, grouped as consecutive runs of `group_size` -> [B] advantages.

    Centered on the group mean; divided by the group's std (unbiased, as the reference), the whole
    batch's std ("batch"), or not at all ("none", Dr. GRPO).
    """
    grouped = rewards.view(-1, group_size)                        # [P, G]
    centered = grouped - grouped.mean(dim=1, keepdim=True)        # [P, G]
    if scale == "group":
        centered = centered / (grouped.std(dim=1, keepdim=True) + ADV_EPS)
    elif scale == "batch":
        centered = centered / (rewards.std() + ADV_EPS)
    elif scale != "none":
        raise ValueError(f"unknown advantage scale {scale!r}")
    return centered.reshape(-1)                                   # [B]


def zero_spread_groups(rewards: torch.Tensor, group_size: int) -> torch.Tensor:
    """[P] bool: groups whose G rewards are all equal (they carry no learning signal)."""
    grouped = rewards.view(-1, group_size)
    return (grouped.max(dim=1).values - grouped.min(dim=1).values) == 0


def k3_kl(logp: torch.Tensor, ref_logp: torch.Tensor) -> torch.Tensor:
    """Per-token k3 estimate of KL(policy || reference): exp(r - p) - (r - p) - 1, >= 0."""
    delta = ref_logp - logp
    return torch.exp(delta) - delta - 1


@dataclass
class Totals:
    """Counts over the whole rollout batch (all processes) that fix the loss's scale across micro-batches."""

    sequences: int          # sequences with at least one trained token
    tokens: int             # trained tokens
    max_new_tokens: int     # the Dr. GRPO constant
    batch: int              # all sequences of the rollout batch (Dr. GRPO's divisor)


def aggregate(per_token: torch.Tensor, mask: torch.Tensor, mode: str, totals: Totals) -> torch.Tensor:
    """[b, T] per-token values and mask -> this micro-batch's share of the batch loss (a scalar)."""
    mask = mask.to(per_token.dtype)
    if mode == "token-mean":
        return (per_token * mask).sum() / max(totals.tokens, 1)
    if mode == "sequence-mean":
        per_seq = (per_token * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1)   # [b]
        return per_seq.sum() / max(totals.sequences, 1)
    if mode == "dr-grpo":
        return (per_token * mask).sum() / (totals.batch * totals.max_new_tokens)
    raise ValueError(f"unknown aggregation {mode!r}")


@dataclass
class LossParts:
    loss: torch.Tensor          # scalar to backpropagate
    policy: torch.Tensor        # scalar, the surrogate part (detached)
    kl: torch.Tensor            # scalar, token-mean k3 over trained tokens (detached)
    clip_low: torch.Tensor      # scalar, share of trained tokens clipped below (A < 0)
    clip_high: torch.Tensor     # scalar, share of trained tokens clipped above (A > 0)
    tokens: torch.Tensor        # scalar, trained tokens in this micro-batch


def policy_loss(
    logp: torch.Tensor,                 # [b, T] log-probs of the sampled tokens under the policy (with grad)
    old_logp: torch.Tensor | None,      # [b, T] at sampling time; None = this is the first pass (ratio 1)
    ref_logp: torch.Tensor | None,      # [b, T] under the frozen reference; None when beta = 0
    advantages: torch.Tensor,           # [b]
    mask: torch.Tensor,                 # [b, T] 1 on trained completion tokens
    *,
    beta: float,
    epsilon_low: float,
    epsilon_high: float,
    aggregation: str,
    totals: Totals,
) -> LossParts:
    """Clipped surrogate + beta * k3 KL, per token, aggregated; statistics for the log."""
    old = logp.detach() if old_logp is None else old_logp
    ratio = torch.exp(logp - old)                                             # [b, T]
    adv = advantages.unsqueeze(1)                                             # [b, 1]
    unclipped = ratio * adv
    clipped = torch.clamp(ratio, 1 - epsilon_low, 1 + epsilon_high) * adv
    per_token = -torch.minimum(unclipped, clipped)                            # [b, T]
    kl = k3_kl(logp, ref_logp) if ref_logp is not None else torch.zeros_like(logp)
    if beta:
        per_token = per_token + beta * kl
    loss = aggregate(per_token, mask, aggregation, totals)
    with torch.no_grad():
        m = mask.to(logp.dtype)
        n = m.sum().clamp(min=1)
        low = ((ratio < 1 - epsilon_low) & (adv < 0)).to(m.dtype)
        high = ((ratio > 1 + epsilon_high) & (adv > 0)).to(m.dtype)
        surrogate = -torch.minimum(unclipped, clipped)
        return LossParts(
            loss=loss,
            policy=(surrogate * m).sum() / n,
            kl=(kl * m).sum() / n,
            clip_low=(low * m).sum() / n,
            clip_high=(high * m).sum() / n,
            tokens=m.sum(),
        )
