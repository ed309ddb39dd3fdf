"""Dynamic sampling (DAPO's, `rollout.skip_zero_spread`): groups whose G rewards are all equal have zero
advantage and carry no policy gradient, so they are dropped and more prompts are drawn until the step
has its P groups, at most `rollout.max_extra_draws` extra blocks of prompts per step.

The step's first block of P prompts per process is sampled and scored as always; its groups with reward
spread are kept. While any process has fewer than P, every process takes its next block of P prompts,
samples and scores it, and keeps groups with spread until it has P. The decisions are agreed over all
processes (two all-reduces per extra block), so every process draws the same number of blocks: the
data position advances by (1 + extra draws) x the step's rows on every process, and a resume continues
exactly; under FSDP every process calls `generate` alike. A process that is already full when another
draws samples its block too and leaves those groups unused (`surplus`). When the draws run out (the
bound, or the data) before a process is full, zero-spread groups fill its remaining places without loss
(`Rollout.trains` False on their rows): every process still holds P groups, as the global normalisers
and gathers need, and no zero-spread group contributes to the loss or to the normalisers.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Callable

import torch

from train.inputs import PromptInputs, collate_prompts
from train.losses import zero_spread_groups
from train.rollout import Rollout, assemble

Pick = tuple[Rollout, int]          # a rollout and one of its groups


@dataclass
class DrawCounts:
    kept: int = 0                   # groups with reward spread that train
    dropped: int = 0                # zero-spread groups sampled (none of them trains)
    filler: int = 0                 # of those, kept in place without loss when the draws ran out
    surplus: int = 0                # groups with spread sampled after this process was full (unused)
    draws: int = 0                  # extra blocks of prompts drawn (the same on every process)

    def metrics(self) -> dict[str, float]:
        return {f"dynamic/{k}": float(v) for k, v in asdict(self).items()}


def fill_groups(
    first: Rollout,
    take: Callable[[], list[PromptInputs] | None],
    sample: Callable[[list[PromptInputs]], Rollout],
    max_extra_draws: int,
    agree: Callable[[bool, bool], tuple[bool, bool]],
    model,
    pad_id: int,
) -> tuple[Rollout, DrawCounts]:
    """The step's rollout with P groups that have reward spread (fewer, padded without loss, when the
    draws run out). `take()`: this process's next P prompts (None: the data ran out); `sample`: sample
    and score them; `agree(short, out)`: (any process short, any process out of data)."""
    groups = len(first.prompts)
    counts = DrawCounts()
    kept: list[Pick] = []
    flat: list[Pick] = []

    def sort_out(rollout: Rollout) -> None:
        for g, zero in enumerate(zero_spread_groups(rollout.rewards, rollout.group_size).tolist()):
            if zero:
                flat.append((rollout, g))
            elif len(kept) < groups:
                kept.append((rollout, g))
            else:
                counts.surplus += 1

    sort_out(first)
    while counts.draws < max_extra_draws:
        if not agree(len(kept) < groups, False)[0]:
            break
        prompts = take()
        if agree(False, prompts is None)[1]:
            break
        counts.draws += 1
        sort_out(sample(prompts))
    fillers = flat[: groups - len(kept)]
    counts.kept, counts.dropped, counts.filler = len(kept), len(flat), len(fillers)
    if not flat and counts.draws == 0:
        return first, counts               # nothing to drop: the rollout as sampled
    return merge(kept + fillers, len(kept), model, pad_id), counts


def merge(picks: list[Pick], training: int, model, pad_id: int) -> Rollout:
    """One rollout of the picked groups, in order, their completions and rewards as sampled; the first
    `training` groups carry loss."""
    G = picks[0][0].group_size
    width = max(r.completion_width for r, _ in picks)
    completions = torch.full((len(picks) * G, width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(picks) * G, width), dtype=picks[0][0].completion_mask.dtype)
    truncated, texts, rewards = [], [], []
    names = sorted({name for r, _ in picks for name in r.components})
    components: dict[str, list[torch.Tensor]] = {name: [] for name in names}
    for k, (r, g) in enumerate(picks):
        rows = torch.arange(g * G, (g + 1) * G)
        w = r.completion_width
        completions[k * G:(k + 1) * G, :w] = r.input_ids[rows, -w:]
        mask[k * G:(k + 1) * G, :w] = r.completion_mask[rows]
        truncated.append(r.truncated[rows])
        texts += [r.texts[i] for i in rows.tolist()]
        rewards.append(r.rewards[rows])
        for name in names:
            components[name].append(r.components[name][rows] if name in r.components else torch.full((G,), math.nan))
    prompts = [r.prompts[g] for r, g in picks]
    pixels = [r.pixels[g] for r, g in picks]
    batch = collate_prompts(prompts, pad_id, pixels)
    out = assemble(model, prompts, pixels, batch, completions, mask, torch.cat(truncated), texts)
    out.rewards = torch.cat(rewards)
    out.components = {name: torch.cat(parts) for name, parts in components.items()}
    out.trains = torch.arange(len(picks) * G) < training * G
    return out
