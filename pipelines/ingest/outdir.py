"""The OUT folder: refuse to mix runs, clear it for --overwrite, keep finished video parts for --resume.

A run writes `.vrft-ingest.json` (its options) first and `manifest.json` last; a folder with the
first and without the second is an unfinished run, which `--resume` continues if the options match.
The same rules hold for a local folder and a bucket (`pipelines.storage`).
"""

from __future__ import annotations

import json
from typing import Any

from pipelines import layout, storage


class OutDirError(ValueError):
    """OUT cannot be used as asked (a user mistake: the message says what to do)."""


def prepare(out: str, identity: dict[str, Any], overwrite: bool = False, resume: bool = False) -> int:
    """Make OUT ready for a run; returns how many finished video parts a --resume keeps."""
    if overwrite and resume:
        raise OutDirError("--overwrite and --resume contradict each other; pick one")
    if storage.exists(out) and not storage.isdir(out):
        raise OutDirError(f"{out} exists and is not a folder")
    entries = storage.listdir(out)
    kept = 0
    if resume:
        run_file = storage.join(out, layout.RUN_FILE)
        if not storage.exists(run_file):
            raise OutDirError(f"nothing to resume in {out}: no {layout.RUN_FILE} from an earlier run")
        before = storage.read_json(run_file)
        if before != json.loads(json.dumps(identity)):
            changed = sorted(k for k in set(before) | set(identity) if before.get(k) != identity.get(k))
            raise OutDirError(f"--resume needs the options of the run it continues; these differ: {', '.join(changed)}")
        for name in ("samples", "rejects", layout.MANIFEST):
            storage.remove(storage.join(out, name))
        videos = storage.join(out, "videos")
        for name in storage.listdir(videos):
            if storage.is_temp(name):
                storage.remove(storage.join(videos, name))
        kept = len(layout.batch_records(out, "videos"))        # finished batches (layout.batch_record)
    elif entries:
        if not overwrite:
            raise OutDirError(f"{out} is not empty; pass --overwrite to replace it or --resume to finish an interrupted run")
        for name in (*layout.TABLES, layout.MANIFEST, layout.RUN_FILE):
            if name in entries:
                storage.remove(storage.join(out, name))
    for table in layout.TABLES:
        storage.makedirs(storage.join(out, table))
    storage.write_json(storage.join(out, layout.RUN_FILE), identity, indent=1, sort_keys=True)
    return kept
