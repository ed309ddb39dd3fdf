"""Shared fixtures. The real-data folder is reached through `real_data` only."""

from __future__ import annotations

import os
import shutil
import sys
import uuid
from pathlib import Path

import pytest
from hypothesis import Phase, settings

from pipelines import storage

ROOT = Path(__file__).resolve().parents[1]


# Property and differential tests draw the same examples on every run in CI (profile "ci": derandomized,
# no example database) and new random ones on a developer's machine ("dev"). Mutation runs ("mutation")
# draw the ci examples and do not shrink a failure: that a test fails is all they need to know.
settings.register_profile("ci", derandomize=True, database=None)
settings.register_profile("mutation", derandomize=True, database=None,
                          phases=[Phase.explicit, Phase.reuse, Phase.generate])
settings.register_profile("dev")
settings.load_profile(os.environ.get("VRFT_HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


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


CLIENTS = ROOT / ".clients"


@pytest.fixture(scope="session")
def clients() -> Path:
    """The field's tools (verl, TRL, got10k, qwen_vl_utils) from .clients (scripts/clients.sh), at the END
    of sys.path so the venv's packages win; skipped, with the reason, where they are not installed."""
    if not (CLIENTS / ".vrft-clients-stamp").is_file():
        pytest.skip(f"test clients not installed at {CLIENTS} (`make clients` installs them: verl, TRL, ...)")
    sys.path.append(str(CLIENTS))
    yield CLIENTS
    sys.path.remove(str(CLIENTS))


# Real annotation files ingested once per session, by name: (adapter, files under real_data, source options).
REAL_INGESTS = {
    "charades_sta_test": ("charades-sta", ["charades_sta/charades_sta_test.txt"], {"durations": "charades_sta/charades.json"}),
    "charades_sta_train": ("charades-sta", ["charades_sta/charades_sta_train.txt"], {"durations": "charades_sta/charades.json"}),
    "nextgqa_val": ("nextgqa", ["nextgqa/val.csv"], {}),
    "nextgqa_test": ("nextgqa", ["nextgqa/test.csv"], {}),
    "got_val": ("videochat-r1", ["videochat_r1/got_val.json"], {}),
}


@pytest.fixture(scope="session")
def real_ingested(real_data, tmp_path_factory):
    """name -> an ingestion folder of that real file (labels only), ingested on first use.

    "charades_clip" is the real Charades clip with frames, as a one-query *training* file of video
    93REJ (which Charades-STA test holds: a leak by construction).
    """
    from pipelines.ingest import IngestConfig, run_ingest
    from pipelines.sources.base import SourceOptions

    made: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in made:
            out = tmp_path_factory.mktemp(name)
            if name == "charades_clip":
                src = tmp_path_factory.mktemp("clip_src")
                (src / "videos").mkdir()
                # a copy: a symlink inside --videos that leads outside it is refused (video_outside_root)
                shutil.copyfile(real_data / "videos/univtg/charades.mp4", src / "videos" / "93REJ.mp4")
                (src / "charades_sta_train.txt").write_text("93REJ 3.4 10.5##person drinking from a cup.\n")
                cfg = IngestConfig("charades-sta", SourceOptions((str(src / "charades_sta_train.txt"),), videos=str(src / "videos")),
                                   str(out), frames=True)
            else:
                adapter, files, opts = REAL_INGESTS[name]
                source = SourceOptions(tuple(str(real_data / f) for f in files), **{k: str(real_data / v) for k, v in opts.items()})
                cfg = IngestConfig(adapter, source, str(out), frames=False)
            run_ingest(cfg, ["--direct_num_workers=1"])
            made[name] = out
        return made[name]

    return get


@pytest.fixture(params=["local", "remote"])
def root(request, tmp_path):
    """A folder to write into: a local one, then a remote one (fsspec's in-memory filesystem)."""
    if request.param == "local":
        yield str(tmp_path / "root")
        return
    url = f"memory://vrft-test-{uuid.uuid4().hex[:8]}"
    yield url
    storage.remove(url)
