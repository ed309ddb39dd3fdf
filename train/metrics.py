"""What a run writes as it goes: JSONL metrics, TensorBoard scalars, a table of sample completions,
a progress bar with the current phase and an ETA (train/progress.py), and a warning when the run has
stopped learning for want of reward spread. Only the main process writes; the statistics it logs are computed over
every process's rows (train/distributed.py). A run that starts at step S (a resume) first cuts the logs
back to step S, so the steps it redoes are not logged twice."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Callable

import torch

from pipelines import storage
from train.losses import zero_spread_groups
from train.progress import StepProgress
from train.rollout import Rollout


def _stats(prefix: str, x: torch.Tensor) -> dict[str, float]:
    x = x.float()
    return {f"{prefix}/mean": x.mean().item(), f"{prefix}/std": x.std().item() if x.numel() > 1 else 0.0,
            f"{prefix}/min": x.min().item(), f"{prefix}/max": x.max().item()}


def rollout_stats(
    rewards: torch.Tensor, components: dict[str, torch.Tensor], advantages: torch.Tensor, lengths: torch.Tensor,
    truncated: torch.Tensor, group_size: int,
) -> dict[str, float]:
    """Rewards (total, per component, per task), advantages, completion lengths and the share of flat
    groups, from [B] rows (all processes' rows, gathered)."""
    out: dict[str, float] = {}
    out.update(_stats("reward", rewards))
    for name, values in sorted(components.items()):
        present = values[~torch.isnan(values)]
        if present.numel():
            out[f"reward/{name}"] = present.mean().item()
    out.update(_stats("advantage", advantages))
    out.update(_stats("completion_length", lengths))
    out["truncated_share"] = truncated.float().mean().item()
    out["zero_spread_groups"] = zero_spread_groups(rewards, group_size).float().mean().item()
    return out


def rewrite_jsonl(path: Path, keep: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
    """The rows of a JSONL file that `keep` accepts; the file is rewritten with only those (atomically, and
    only when something goes). Lines torn by a killed run are dropped."""
    if not path.is_file():
        return []
    text = path.read_text(encoding="utf-8")
    rows, lines = [], []
    for line in text.splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(row, dict) and keep(row):
            rows.append(row)
            lines.append(line)
    clean = "".join(line + "\n" for line in lines)
    if clean != text:
        storage.write_text(str(path), clean)
    return rows


def truncate_log(path: Path, step: int) -> None:
    """Keep the lines of a step log up to and including `step`."""
    rewrite_jsonl(path, lambda row: isinstance(row.get("step"), int) and row["step"] <= step)


def sample_rows(r: Rollout, limit: int) -> list[dict[str, Any]]:
    """The first `limit` completions with their prompt's video key, task and rewards."""
    rows = []
    for i in range(min(limit, r.size)):
        ex = r.prompts[int(r.prompt_index[i])].example
        comps = {k: round(v[i].item(), 4) for k, v in r.components.items() if "/" not in k and not math.isnan(v[i].item())}
        rows.append({
            "sample_id": ex.sample_id, "video_key": ex.video_key, "task": ex.task, "completion": r.texts[i],
            "reward": round(r.rewards[i].item(), 4), "advantage": round(r.advantages[i].item(), 4), **comps,
        })
    return rows


class RunLog:
    def __init__(self, out: Path, *, enabled: bool, tensorboard: bool, progress: bool, total: int, start: int):
        self.enabled = enabled
        self.out = out
        self._tb = None
        self._progress = None
        if not enabled:
            return
        out.mkdir(parents=True, exist_ok=True)
        for name in ("metrics.jsonl", "samples.jsonl"):
            truncate_log(out / name, start)
        self._metrics = open(out / "metrics.jsonl", "a")
        self._samples = open(out / "samples.jsonl", "a")
        if tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            # TensorBoard hides the earlier events at steps >= purge_step (the steps this run redoes)
            self._tb = SummaryWriter(str(out / "tensorboard"), purge_step=start + 1)
        if progress:
            self._progress = StepProgress(total, start)

    def note(self, text: str) -> None:
        """A line for the person watching (start-up checks, warnings)."""
        if not self.enabled:
            return
        if self._progress is not None:
            self._progress.note(text)
        else:
            print(text, flush=True)

    def phase(self, name: str) -> None:
        """A phase of the step begins (shown on the progress bar)."""
        if self._progress is not None:
            self._progress.phase(name)

    def metrics(self, step: int, values: dict[str, float]) -> None:
        if not self.enabled:
            return
        self._metrics.write(json.dumps({"step": step, **values}) + "\n")
        self._metrics.flush()
        if self._tb is not None:
            for key, value in values.items():
                self._tb.add_scalar(key, value, step)

    def samples(self, step: int, rows: list[dict[str, Any]]) -> None:
        if not self.enabled or not rows:
            return
        for row in rows:
            self._samples.write(json.dumps({"step": step, **row}) + "\n")
        self._samples.flush()
        from rich.console import Console
        from rich.table import Table

        table = Table(title=f"sample completions, step {step}", show_lines=True)
        table.add_column("video / task", no_wrap=True, overflow="ellipsis", max_width=24)
        table.add_column("rewards", no_wrap=True)
        table.add_column("completion", overflow="fold", ratio=1)
        fixed = {"sample_id", "video_key", "task", "completion"}
        for row in rows:
            scores = "\n".join(f"{k} {v}" for k, v in row.items() if k not in fixed)
            table.add_row(f"{row['video_key']}\n{row['task']}", scores, row["completion"])
        console = self._progress.console if self._progress is not None else Console()
        console.print(table)
        if self._tb is not None:
            text = "\n\n".join(f"**{r['task']}** `{r['video_key']}` reward {r['reward']}: {r['completion']}" for r in rows)
            self._tb.add_text("samples", text, step)

    def advance(self, step: int, metrics: dict[str, float]) -> None:
        if self._progress is not None:
            self._progress.step(step, metrics)

    def close(self) -> None:
        if not self.enabled:
            return
        if self._progress is not None:
            self._progress.stop()
        if self._tb is not None:
            self._tb.close()
        self._metrics.close()
        self._samples.close()


class ZeroSpreadWatch:
    """Counts the steps in a row in which every group's completions scored alike, and says what that means
    once the streak reaches `steps` (0: never). Such a step has zero advantages, so zero loss and gradient:
    the run spends its time and the model does not change."""

    def __init__(self, steps: int, group_size: int, max_new_tokens: int):
        self.steps, self.group_size, self.max_new_tokens = steps, group_size, max_new_tokens
        self.streak = 0

    def update(self, metrics: dict[str, float]) -> str | None:
        """The warning, on the step that completes a streak of `steps` (once per streak); else None."""
        self.streak = self.streak + 1 if metrics.get("zero_spread_groups", 0.0) >= 1.0 else 0
        if not self.steps or self.streak != self.steps:
            return None
        truncated = metrics.get("truncated_share", 0.0)
        return (
            f"warning: {self.steps} steps in a row with zero reward spread: in every group all {self.group_size} "
            "completions scored alike, so the advantages, the loss and the gradient are zero and the model does "
            f"not change. {truncated:.0%} of the last step's completions hit rollout.max_new_tokens "
            f"({self.max_new_tokens}). Try a longer rollout.max_new_tokens (the answer contract must fit), a "
            "warm start on the answer contract so that answers parse (`vrft demo` does one), or a higher "
            "rollout.temperature for more varied completions. (run.warn_zero_spread_steps sets the number of "
            "steps; 0 turns this off.)"
        )
