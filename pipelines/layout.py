"""Where things live in vrft's folders: table names, part files, manifests and their schemas.

An ingestion folder holds `samples/`, `videos/`, `rejects/` (each `part-IIIII-of-NNNNN.parquet`),
`manifest.json` (written last: its presence marks a finished run), `.vrft-ingest.json` (the run's
options and its inputs' digests, written first) and `report/` (validation). A mixture folder holds
training shards `part-*.parquet` and its own `manifest.json`. Both carry `pipelines.outputs`' marker
(which names are vrft's) and, while a command writes, its lock. Every reader and writer names these
through this module.

No Parquet file without rows is written: HF `datasets` cannot load a table whose files hold no row,
so a table with no rows has no files (readers take it as empty, with its schema from `TABLE_SCHEMAS`).
A video batch keeps its record (`videos/.part-IIIII-of-NNNNN.json`: it finished, and which videos
failed) beside its part, hidden, so HF datasets and `parts` pass it by; a batch whose videos all
failed has the record alone.
"""

from __future__ import annotations

import hashlib
from typing import Callable, Sequence

import pyarrow as pa

import schemas
from pipelines import outputs, storage

TABLES = ("samples", "videos", "rejects")
MANIFEST = "manifest.json"
RUN_FILE = ".vrft-ingest.json"
PART_GLOB = "part-*.parquet"
REPORT = "report"
INGEST = "ingest"
MIX = "mix"
ENTRIES = {  # what each kind of output folder holds (name patterns), written into its marker
    INGEST: (*("samples", "videos", "rejects"), MANIFEST, RUN_FILE, REPORT),
    MIX: (MANIFEST, PART_GLOB, ".mixing"),
}

TABLE_SCHEMAS: dict[str, Callable[[], pa.Schema]] = {
    "samples": schemas.samples_schema,
    "videos": schemas.videos_schema,
    "rejects": schemas.rejects_schema,
}


def part_name(index: int, count: int) -> str:
    return f"part-{index:05d}-of-{count:05d}.parquet"


def part_path(folder: str, table: str | None, index: int, count: int) -> str:
    """`folder/table/part-...` (or `folder/part-...` for a folder of shards, table None)."""
    return storage.join(folder, *([table] if table else []), part_name(index, count))


def parts(folder: str, table: str | None = None) -> list[str]:
    """The finished part files of a table (or of a folder of shards), sorted; temporaries excluded."""
    pattern = storage.join(folder, *([table] if table else []), PART_GLOB)
    return [p for p in storage.glob(pattern) if not storage.is_temp(p)]


def batch_record(folder: str, table: str, index: int, count: int) -> str:
    """The hidden record of a batch's part: `folder/table/.part-IIIII-of-NNNNN.json`."""
    return storage.join(folder, table, "." + part_name(index, count).replace(".parquet", ".json"))


def batch_records(folder: str, table: str) -> list[str]:
    """The batch records of a table, sorted; temporaries excluded."""
    pattern = storage.join(folder, table, "." + PART_GLOB.replace(".parquet", ".json"))
    return [p for p in storage.glob(pattern) if not storage.is_temp(p)]


def manifest_path(folder: str) -> str:
    return storage.join(folder, MANIFEST)


def bucket_of(key: str, buckets: int) -> int:
    """A stable bucket for a key (sample id -> label shard, video key -> video part): the same key lands
    in the same bucket on every run and machine."""
    return int(hashlib.sha1(key.encode("utf-8")).hexdigest()[:12], 16) % buckets


def claim(folder: str, kind: str, entries: Sequence[str], what: str, verb: str) -> str | None:
    """The vrft output already in `folder` (None when new or empty, else `kind`), after refusing another
    kind of output ("not `what`; `verb` into another folder") and a folder holding files vrft did not write."""
    found = kind_of(folder)
    outputs.refuse_others(folder, found, kind, entries, what, verb)
    return found


def kind_of(folder: str) -> str | None:
    """What vrft output a folder holds: its marker's kind, else what an older vrft left (its run file,
    a mixture's manifest), else None."""
    kind, _ = outputs.marked(folder)
    if kind:
        return kind
    names = storage.listdir(folder)
    if RUN_FILE in names:
        return INGEST
    if MANIFEST in names and "recipe" in (storage.read_json(manifest_path(folder)) or {}):
        return MIX
    return None


def require_manifest(folder: str, what: str, fix: str) -> None:
    """Refuse a folder whose run did not finish (no manifest.json): `what` it should be, `fix` how."""
    if not storage.exists(manifest_path(folder)):
        raise outputs.FolderRefused(f"{folder} has no {MANIFEST}: not a finished {what}; {fix}")
