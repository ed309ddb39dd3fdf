"""What the processes of a run share each step, so N processes holding B/N prompts each make the same
update, and log the same numbers, as one process holding all B.

Each process samples and scores its own rows, but the loss's normalisers (trained tokens, trained
sequences, the batch size) are counted over every process, the `batch` advantage scale uses the std of
every process's rewards, and the logged statistics are computed over every row. DDP and FSDP average the
gradients over processes, so each process backpropagates `world` times its share of the batch loss.
Rows are gathered in rank order, which is the order one process holding the whole batch would see them
in (train/data.py deals blocks of rows to processes in rank order). On one process all of it is identity.
"""

from __future__ import annotations

import math
import os
from typing import Sequence

import torch

from train.losses import Totals, group_advantages
from train.metrics import rollout_stats
from train.rollout import Rollout


def check_launch(accelerator) -> None:
    """Refuse a launch whose processes would not talk to each other (each would train alone, on all rows)."""
    launched = int(os.environ.get("WORLD_SIZE", "1"))
    if launched != accelerator.num_processes:
        raise RuntimeError(f"launched as {launched} processes, but accelerate runs {accelerator.num_processes}: "
                           "they would not share gradients")


def gather_rows(accelerator, rows: torch.Tensor) -> torch.Tensor:
    """[b, ...] on each process -> [world * b, ...] on the CPU, in rank order (b equal everywhere)."""
    return accelerator.gather(rows.to(accelerator.device)).cpu()


def summed(accelerator, values: Sequence[float]) -> list[float]:
    """Element-wise sums over processes (float64)."""
    local = torch.tensor(list(values), dtype=torch.float64, device=accelerator.device)
    return accelerator.reduce(local, reduction="sum").cpu().tolist()


def maxed(accelerator, values: Sequence[float]) -> list[float]:
    local = torch.tensor(list(values), dtype=torch.float64, device=accelerator.device)
    return accelerator.reduce(local, reduction="max").cpu().tolist()


def global_totals(accelerator, mask: torch.Tensor, max_new_tokens: int, rows: int | None = None) -> Totals:
    """The loss normalisers of the whole rollout batch, every process's [b, T] train mask counted; `rows`:
    this process's rows in the batch (default all b; dynamic sampling's filler rows are not)."""
    rows = mask.shape[0] if rows is None else rows
    sequences, tokens, batch = summed(accelerator, [(mask.sum(dim=1) > 0).sum(), mask.sum(), rows])
    return Totals(sequences=int(sequences), tokens=int(tokens), max_new_tokens=max_new_tokens, batch=int(batch))


def global_advantages(accelerator, rewards: torch.Tensor, group_size: int, scale: str) -> torch.Tensor:
    """This process's [b] advantages, computed on every process's rewards (the `batch` scale's std is the
    whole batch's; groups never straddle processes, so `group` and `none` are unchanged)."""
    everyone = gather_rows(accelerator, rewards)
    return group_advantages(everyone, group_size, scale).view(accelerator.num_processes, -1)[accelerator.process_index]


def gather_named(accelerator, named: dict[str, torch.Tensor], rows: int) -> dict[str, torch.Tensor]:
    """{name: [b]} per process -> {name: [world * b]} over the union of names, NaN where a process had none
    (a process whose rows lack a task has none of that task's components)."""
    from accelerate.utils import gather_object

    names = sorted(set(gather_object(sorted(named))))
    return {n: gather_rows(accelerator, named.get(n, torch.full((rows,), math.nan))) for n in names}


SHARED = ("grad_norm", "lr", "dynamic/draws")  # the same on every process (all-reduced or agreed)


def step_metrics(accelerator, rollout: Rollout, counts: dict[str, float], peaks: dict[str, float]) -> dict[str, float]:
    """A step's logged statistics over every process: the rollout's rows gathered (rewards, advantages,
    lengths), `counts` summed (tokens and each process's share of the loss terms), `peaks` maxed (times
    and memory: the slowest / largest process's)."""
    metrics = rollout_stats(
        gather_rows(accelerator, rollout.rewards), gather_named(accelerator, rollout.components, rollout.size),
        gather_rows(accelerator, rollout.advantages), gather_rows(accelerator, rollout.completion_mask.sum(dim=1)),
        gather_rows(accelerator, rollout.truncated), rollout.group_size,
    )
    added = sorted(k for k in counts if k not in SHARED)
    metrics.update(zip(added, summed(accelerator, [counts[k] for k in added])))
    metrics.update({k: counts[k] for k in SHARED if k in counts})
    metrics.update(zip(sorted(peaks), maxed(accelerator, [peaks[k] for k in sorted(peaks)])))
    return metrics
