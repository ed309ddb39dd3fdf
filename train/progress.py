"""What a person watching a run sees: steps done of all, the phase running now (data, rollout, score,
loss+backward, ...), the last step's reward and its slowest phase, the time so far and the time left.

The time left is the mean time of the steps this run has finished times the steps to go, so it shows
from the end of the first step on (rich's own estimate keeps only the last 30 s of updates, which steps
of a minute never fill). On a terminal this is a live bar that changes with each phase; anywhere else
(a log file, CI) it is one plain line per step.
"""

from __future__ import annotations

import sys
import time
from typing import Mapping

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, Task, TextColumn, TimeElapsedColumn
from rich.text import Text

from train.pace import clock, left_at_mean_pace


def slowest_phase(metrics: Mapping[str, float]) -> tuple[str, float] | None:
    """(phase, seconds) of the step's longest phase, from its `time/<phase>` metrics."""
    times = [(k.removeprefix("time/"), v) for k, v in metrics.items() if k.startswith("time/")]
    return max(times, key=lambda kv: kv[1]) if times else None


class EtaColumn(ProgressColumn):
    """'eta H:MM:SS' counting down to the task's `finish_at` (a time.monotonic() value), '?' before it is known."""

    def render(self, task: Task) -> Text:
        finish = task.fields.get("finish_at")
        left = None if finish is None else max(0.0, finish - time.monotonic())
        return Text(f"eta {clock(left)}", style="progress.remaining")


def default_console() -> Console:
    return Console(file=sys.stdout)


class StepProgress:
    def __init__(self, total: int, start: int, console: Console | None = None):
        self.console = console or default_console()
        self.total, self.start = total, start
        self._first_started: float | None = None   # when this run's first step began (monotonic)
        self.live = self.console.is_terminal
        self._bar: Progress | None = None
        if self.live:
            self._bar = Progress(
                TextColumn("train"), BarColumn(), MofNCompleteColumn(), TextColumn("[bold]{task.fields[phase]}"),
                TextColumn("{task.fields[info]}"), TimeElapsedColumn(), EtaColumn(), console=self.console,
            )
            self._task = self._bar.add_task("train", total=total or None, completed=start, phase="starting",
                                            info="", finish_at=None)
            self._bar.start()

    def phase(self, name: str) -> None:
        """A phase of the current step begins."""
        if self._first_started is None:
            self._first_started = time.monotonic()
        if self._bar is not None:
            self._bar.update(self._task, phase=name)
            self._bar.refresh()

    def step(self, step: int, metrics: Mapping[str, float]) -> None:
        """Step `step` (counted from the run's start, resumes included) has finished with these metrics."""
        now = time.monotonic()
        done = step - self.start
        elapsed = now - (self._first_started if self._first_started is not None else now)
        eta = left_at_mean_pace(elapsed, done, max(self.total - step, 0))
        info = f"reward {metrics['reward/mean']:.3f}" if "reward/mean" in metrics else ""
        slow = slowest_phase(metrics)
        if self._bar is not None:
            self._bar.update(self._task, completed=step, info=info, finish_at=None if eta is None else now + eta)
            return
        pace = f"{elapsed / done:.1f} s/step" if done > 0 else ""
        parts = [f"step {step}/{self.total}", info, pace + (f" (slowest: {slow[0]} {slow[1]:.1f} s)" if slow else ""),
                 f"eta {clock(eta)}"]
        print(" · ".join(p for p in parts if p), file=self.console.file, flush=True)

    def note(self, text: str) -> None:
        """A line above the bar (or in the log)."""
        if self._bar is not None:
            self.console.print(text, soft_wrap=True)
        else:
            print(text, file=self.console.file, flush=True)

    def stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()
