"""The OUT folder: refuse to mix runs, clear it for --overwrite, keep finished video parts for --resume.

A run writes `.vrft-ingest.json` (its options) first and `manifest.json` last; a folder with the
first and without the second is an unfinished run, which `--resume` continues if the options match.
"""

from __future__ import annotations

import json
import os
import shutil
from typing import Any

from pipelines.ingest.parquet_io import is_temp, temp_name

TABLES = ("samples", "videos", "rejects")
MANIFEST = "manifest.json"
RUN_FILE = ".vrft-ingest.json"


class OutDirError(ValueError):
    """OUT cannot be used as asked (a user mistake: the message says what to do)."""


def _ours(out: str) -> list[str]:
    return [os.path.join(out, n) for n in (*TABLES, MANIFEST, RUN_FILE) if os.path.lexists(os.path.join(out, n))]


def _remove(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    else:
        os.remove(path)


def prepare(out: str, identity: dict[str, Any], overwrite: bool = False, resume: bool = False) -> int:
    """Make OUT ready for a run; returns how many finished video parts a --resume keeps."""
    if overwrite and resume:
        raise OutDirError("--overwrite and --resume contradict each other; pick one")
    if "://" in out:
        return 0  # remote folders (Dataflow): the caller answers for them
    if os.path.exists(out) and not os.path.isdir(out):
        raise OutDirError(f"{out} exists and is not a folder")
    entries = os.listdir(out) if os.path.isdir(out) else []
    kept = 0
    if resume:
        run_file = os.path.join(out, RUN_FILE)
        if not os.path.exists(run_file):
            raise OutDirError(f"nothing to resume in {out}: no {RUN_FILE} from an earlier run")
        with open(run_file) as f:
            before = json.load(f)
        if before != json.loads(json.dumps(identity)):
            changed = sorted(k for k in set(before) | set(identity) if before.get(k) != identity.get(k))
            raise OutDirError(f"--resume needs the options of the run it continues; these differ: {', '.join(changed)}")
        for name in ("samples", "rejects", MANIFEST):
            if os.path.lexists(os.path.join(out, name)):
                _remove(os.path.join(out, name))
        videos = os.path.join(out, "videos")
        for name in os.listdir(videos) if os.path.isdir(videos) else []:
            if is_temp(name):
                os.remove(os.path.join(videos, name))
            else:
                kept += 1
    elif entries:
        if not overwrite:
            raise OutDirError(f"{out} is not empty; pass --overwrite to replace it or --resume to finish an interrupted run")
        for path in _ours(out):
            _remove(path)
    for table in TABLES:
        os.makedirs(os.path.join(out, table), exist_ok=True)
    tmp = temp_name(os.path.join(out, RUN_FILE))
    with open(tmp, "w") as f:
        json.dump(identity, f, indent=1, sort_keys=True)
    os.replace(tmp, os.path.join(out, RUN_FILE))
    return kept
