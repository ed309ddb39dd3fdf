"""What the Beam commands (`vrft ingest`, `vrft label`) share on the terminal: a progress ticker thread
around the run, and the dry run's printout (options and the graph's stages)."""

from __future__ import annotations

import contextlib
import sys
import threading
from typing import Any, Callable, Iterator, Mapping, Sequence


@contextlib.contextmanager
def ticking(tick: Callable[..., None], *args: Any, enabled: bool = True) -> Iterator[None]:
    """Run `tick(stop, *args, interval)` in a daemon thread for the block (every second on a terminal,
    every 10 s in a log); stopped and joined however the block ends."""
    stop = threading.Event()
    ticker = threading.Thread(target=tick, args=(stop, *args, 1.0 if sys.stderr.isatty() else 10.0), daemon=True)
    if enabled:
        ticker.start()
    try:
        yield
    finally:
        stop.set()
        if ticker.is_alive():
            ticker.join()


def print_dry_run(head: str, options: Mapping[str, Any], plan: Sequence[str]) -> None:
    """`dry run: ...; nothing was run`, the pipeline options and the stages."""
    print(f"dry run: {head}; nothing was run")
    print("options: " + " ".join(f"--{k}={v}" for k, v in sorted(options.items())))
    print("plan:")
    for line in plan:
        print("  " + line)
