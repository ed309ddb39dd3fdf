"""What every benchmark shares: the repo root on sys.path and the real-data folder."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) in sys.path:  # first, before bench/ itself: bench/rewards.py must not shadow the rewards package
    sys.path.remove(str(ROOT))
sys.path.insert(0, str(ROOT))


def real_data_dir() -> Path:
    """$VRFT_REAL_DATA, else ../shared/data/real next to the checkout (as tests/conftest.py)."""
    env = os.environ.get("VRFT_REAL_DATA")
    return Path(env) if env else ROOT.parent / "shared" / "data" / "real"
