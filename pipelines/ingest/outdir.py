"""The OUT folder of an ingestion run: refuse to mix runs, clear it for --overwrite, keep finished video
parts for --resume.

A run writes `.vrft-ingest.json` (its options and its inputs' digests) and the folder's marker first and
`manifest.json` last; a folder with the first and without the second is an unfinished run, which
`--resume` continues if the options and the inputs' content match. `--overwrite` removes only what the
marker names as vrft's; a folder holding anything else is refused (a dataset folder is not an output).
The same rules hold for a local folder and a bucket (`pipelines.storage`).
"""

from __future__ import annotations

import json
from typing import Any

from pipelines import layout, outputs, storage
from pipelines.ingest.fingerprint import changed


class OutDirError(ValueError):
    """OUT cannot be used as asked (a user mistake: the message says what to do)."""


def _check_resumable(out: str, identity: dict[str, Any]) -> None:
    run_file = storage.join(out, layout.RUN_FILE)
    if not storage.exists(run_file):
        raise OutDirError(f"nothing to resume in {out}: no {layout.RUN_FILE} from an earlier run")
    before = storage.read_json(run_file)
    now = json.loads(json.dumps(identity))
    moved = changed(before.get("inputs"), now.get("inputs") or {})
    if moved:
        raise OutDirError(
            f"--resume: the inputs changed since the run started ({', '.join(moved)}); "
            "start over with --overwrite"
        )
    if before != now:
        diff = sorted(k for k in set(before) | set(now) if before.get(k) != now.get(k))
        raise OutDirError(f"--resume needs the options of the run it continues; these differ: {', '.join(diff)}")


def prepare(out: str, identity: dict[str, Any], overwrite: bool = False, resume: bool = False) -> int:
    """Make OUT ready for a run; returns how many finished video parts a --resume keeps."""
    if overwrite and resume:
        raise OutDirError("--overwrite and --resume contradict each other; pick one")
    if storage.exists(out) and not storage.isdir(out):
        raise OutDirError(f"{out} exists and is not a folder")
    entries = layout.ENTRIES[layout.INGEST]
    kind = layout.claim(out, layout.INGEST, entries, "an ingestion run", "ingest")
    kept = 0
    if resume:
        _check_resumable(out, identity)
        for name in ("samples", "rejects", layout.MANIFEST, layout.REPORT):
            storage.remove(storage.join(out, name))
        videos = storage.join(out, "videos")
        for name in storage.listdir(videos):
            if storage.is_temp(name):
                storage.remove(storage.join(videos, name))
        kept = len(layout.batch_records(out, "videos"))        # finished batches (layout.batch_record)
    elif kind:
        if not overwrite:
            raise OutDirError(f"{out} is not empty; pass --overwrite to replace it or --resume to finish an interrupted run")
        outputs.clear(out, entries)
    outputs.mark(out, layout.INGEST, entries)
    for table in layout.TABLES:
        storage.makedirs(storage.join(out, table))
    storage.write_json(storage.join(out, layout.RUN_FILE), identity, indent=1, sort_keys=True)
    return kept


def discard_temporaries(out: str) -> None:
    """Remove the hidden files of a run that stopped (spilled label runs, a part half written): a failed
    run leaves only finished parts behind."""
    for table in layout.TABLES:
        folder = storage.join(out, table)
        for name in storage.listdir(folder):
            if storage.is_temp(name):
                storage.remove(storage.join(folder, name))
