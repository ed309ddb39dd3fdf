"""Live counters for the progress line of local runs.

Stages bump them in-process (Beam's local runner runs DoFns as threads of the driver), and the
command line reads them to print records/s and videos/s. On a remote runner they stay at zero and
the runner's own UI shows progress; the manifest never depends on them.
"""

from __future__ import annotations

import threading
from collections import Counter

_LOCK = threading.Lock()
_COUNTS: Counter[str] = Counter()


def bump(name: str, n: int = 1) -> None:
    with _LOCK:
        _COUNTS[name] += n


def snapshot() -> dict[str, int]:
    with _LOCK:
        return dict(_COUNTS)


def reset() -> None:
    with _LOCK:
        _COUNTS.clear()
