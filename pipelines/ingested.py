"""An ingestion output folder (samples/, videos/, rejects/, manifest.json), read in bounded pieces.

Validation, the dataset report and mixing all read ingestion folders; none of them may load a whole
table of frames. Everything here reads only the columns asked for, a batch of rows at a time.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Callable, Iterator, Sequence

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

import schemas
from pipelines import layout, outputs, storage
from pipelines.parquet import open_parquet


class NotIngested(ValueError):
    """The folder is not an ingestion output (a user mistake: the message says what is missing)."""


@contextlib.contextmanager
def readable(path: str) -> Iterator[None]:
    """Inside the block, a Parquet file that cannot be read becomes a `NotIngested` naming it."""
    try:
        yield
    except (pa.ArrowException, OSError, ValueError) as err:
        if isinstance(err, NotIngested) or storage.is_environment(err):
            raise
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise NotIngested(f"{path} is not a readable Parquet file ({first}); ingest the folder again") from None


def streaming(path: str) -> pq.ParquetFile:
    """A Parquet file read page by page (no pre-buffering of whole column chunks)."""
    return open_parquet(path, pre_buffer=False, buffer_size=1 << 20)


@dataclass(frozen=True)
class Ingested:
    root: str

    @classmethod
    def open(cls, root: str, finished: bool = True) -> "Ingested":
        """The folder, refused with a message unless it is an ingestion run (`finished`: with its
        manifest) whose every part file opens (a truncated or overwritten file is named, not a pyarrow
        traceback)."""
        root = os.path.normpath(root)
        if not os.path.isdir(root):
            raise NotIngested(f"{root} is not a folder")
        found = cls(root)
        if not found.parts("samples") and "counts" not in (found.manifest or {}):  # a run that wrote no sample
            raise NotIngested(f"{root} holds no samples/part-*.parquet and no ingestion manifest: "
                              "not an ingestion output folder")
        try:
            if finished:
                layout.require_manifest(root, "ingestion run", "finish it with `vrft ingest ... --resume` (or run it again)")
        except outputs.FolderRefused as err:
            raise NotIngested(str(err)) from None
        for path in found.parts("samples") + found.parts("videos") + found.parts("rejects"):
            with readable(path):
                version = schemas.schema_version(open_parquet(path).schema_arrow.metadata)
            if version not in (None, schemas.SCHEMA_VERSION):
                raise NotIngested(f"{path} has schema version {version}; this vrft reads {schemas.SCHEMA_VERSION}")
        return found

    def parts(self, table: str) -> list[str]:
        return layout.parts(self.root, table)

    @cached_property
    def manifest(self) -> dict[str, Any] | None:
        path = layout.manifest_path(self.root)
        return storage.read_json(path) if storage.exists(path) else None

    def scan(self, table: str) -> Any:
        """The table as a polars LazyFrame (empty, with the table's schema, when it has no files)."""
        import polars as pl

        files = self.parts(table)
        return pl.scan_parquet(files) if files else pl.from_arrow(layout.TABLE_SCHEMAS[table]().empty_table()).lazy()

    def column(self, table: str, column: str) -> pa.ChunkedArray:
        """One (small) column of a whole table, e.g. all sample ids or video keys."""
        chunks = []
        for p in self.parts(table):
            with readable(p):
                chunks.append(open_parquet(p).read(columns=[column]).column(column))
        chunks = [c for c in chunks if len(c)] or [pa.chunked_array([], pa.string())]
        return pa.chunked_array([a for c in chunks for a in c.chunks], chunks[0].type)

    def batches(
        self, table: str, columns: Sequence[str] | None = None, rows: int = 50_000,
        row_groups: Callable[[pq.ParquetFile], Sequence[int]] | None = None,
    ) -> Iterator[pa.Table]:
        """The table as successive tables of at most `rows` rows, optionally only the row groups that
        `row_groups(file)` names. Reads stream page by page, so memory holds about one batch, not a
        row group (a videos row group holds up to ~100 MB of JPEGs)."""
        for path in self.parts(table):
            with readable(path):
                pf = streaming(path)
                groups = list(row_groups(pf)) if row_groups else None
                if groups == []:
                    continue
                found = pf.iter_batches(batch_size=rows, row_groups=groups, columns=list(columns) if columns else None)
                while True:
                    with readable(path):
                        batch = next(found, None)
                    if batch is None:
                        break
                    yield pa.Table.from_batches([batch])

    def framed_keys(self) -> set[str]:
        """Keys of the videos that carry decoded frames (none after `vrft ingest --no-frames`)."""
        keys: set[str] = set()
        for t in self.batches("videos", ["video_key", "timestamps"], rows=100_000):
            has = pc.greater(pc.fill_null(pc.list_value_length(t.column("timestamps")), 0), 0)
            keys.update(pc.filter(t.column("video_key"), has).to_pylist())
        return keys

    @property
    def frames_expected(self) -> bool:
        """False when the manifest says the run was labels only (--no-frames)."""
        return ((self.manifest or {}).get("options") or {}).get("frames", True) is not False
