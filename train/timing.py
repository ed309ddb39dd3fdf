"""Named phase timers: `with timers("rollout"): ...` adds the wall time of the block to that phase."""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Callable, Iterator


class PhaseTimers:
    def __init__(self, sync_cuda: bool = False):
        self.seconds: dict[str, float] = {}
        self._sync = sync_cuda
        self.on_start: Callable[[str], None] | None = None   # told each phase's name as it begins (progress bar)

    @contextmanager
    def __call__(self, phase: str) -> Iterator[None]:
        if self.on_start is not None:
            self.on_start(phase)
        if self._sync:
            import torch

            torch.cuda.synchronize()
        start = time.perf_counter()
        try:
            yield
        finally:
            if self._sync:
                import torch

                torch.cuda.synchronize()
            self.seconds[phase] = self.seconds.get(phase, 0.0) + time.perf_counter() - start

    def pop(self) -> dict[str, float]:
        """The times since the last pop, and reset."""
        out, self.seconds = self.seconds, {}
        return out
