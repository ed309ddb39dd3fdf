"""Shared fixtures. The real-data folder is reached through `real_data` only."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def real_data_dir() -> Path:
    """$VRFT_REAL_DATA, else ../shared/data/real next to the checkout."""
    env = os.environ.get("VRFT_REAL_DATA")
    return Path(env) if env else ROOT.parent / "shared" / "data" / "real"


@pytest.fixture(scope="session")
def real_data() -> Path:
    path = real_data_dir()
    if not (path / "README.md").is_file():
        pytest.skip(f"real data folder not found at {path} (set VRFT_REAL_DATA to point at it)")
    return path
