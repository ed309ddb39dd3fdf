"""Parquet files that appear whole, with an explicit schema and per-column encodings.

Every table vrft writes goes through `ParquetFileWriter` (ingestion's tables, the mixture's training
shards, the synthetic folders of tests and benches). Label columns are zstd-compressed. Media columns
(JPEG bytes, already compressed) are written uncompressed with PLAIN encoding and no dictionary, in
row groups of at most ~100 MB, which Beam's WriteToParquet cannot do (one codec for all columns, row
groups follow bundles). The file goes through `storage.AtomicFile`, so a killed run never leaves a
visible partial `part-*.parquet`, locally or in a bucket.
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterable, Mapping, Sequence

import pyarrow as pa
import pyarrow.parquet as pq

from pipelines import storage
from schemas.errors import UserError

MAX_ROW_GROUP_BYTES = 100 * 2**20
ROWS_PER_GROUP = 1 << 17     # label tables written from Arrow: rows per row group


def leaf_paths(field: pa.Field, prefix: str = "") -> list[str]:
    """Parquet column paths under an Arrow field ("frames" -> "frames.list.element")."""
    name = f"{prefix}{field.name}"
    typ = field.type
    if pa.types.is_struct(typ):
        return [p for child in typ for p in leaf_paths(child, name + ".")]
    if pa.types.is_list(typ) or pa.types.is_large_list(typ):
        return leaf_paths(pa.field("element", typ.value_type), name + ".list.")
    return [name]


def writer_options(schema: pa.Schema, media_columns: Sequence[str] = (), media_statistics: bool = True) -> dict[str, Any]:
    """zstd + dictionary everywhere except the media columns (none, PLAIN). Without `media_statistics`
    the media columns get no min/max statistics, which would copy two whole JPEGs into the footer per
    row group."""
    compression: dict[str, str] = {}
    dictionary: list[str] = []
    statistics: list[str] = []
    for f in schema:
        media = f.name in media_columns
        for path in leaf_paths(f):
            compression[path] = "NONE" if media else "ZSTD"
            if not media:
                dictionary.append(path)
            if media_statistics or not media:
                statistics.append(path)
    return {"compression": compression, "use_dictionary": dictionary,
            "write_statistics": True if media_statistics else statistics}


def _approx_bytes(row: Mapping[str, Any], media_columns: Sequence[str]) -> int:
    """Bytes a row adds to a row group: its media, plus a flat allowance for the labels."""
    return 512 + sum(len(b) for col in media_columns for b in (row.get(col) or ()))


class ParquetFileWriter:
    """Rows (or Arrow tables) in, one complete file out; `close()` publishes it, `abort()` drops it.
    As a context manager: published when the block ends, dropped when it raises.

    Rows are buffered into row groups of at most `max_group_bytes` (and `max_group_rows`, if given)."""

    def __init__(
        self,
        path: str,
        schema: pa.Schema,
        media_columns: Sequence[str] = (),
        metadata: Mapping[bytes, bytes] | None = None,
        max_group_bytes: int = MAX_ROW_GROUP_BYTES,
        max_group_rows: int | None = None,
        media_statistics: bool = True,
    ) -> None:
        self.path, self.schema = str(path), schema.with_metadata({**(schema.metadata or {}), **(metadata or {})})
        self.max_group_bytes, self.max_group_rows = max_group_bytes, max_group_rows
        self.media_columns = tuple(media_columns)
        self._file = storage.AtomicFile(self.path)
        try:
            with storage.environment_errors(self.path):
                self._writer = pq.ParquetWriter(
                    self._file.file, self.schema, **writer_options(schema, media_columns, media_statistics)
                )
        except BaseException:
            self._file.discard()
            raise
        self._buffer: list[Mapping[str, Any]] = []
        self._buffered = 0
        self.rows = 0

    def __enter__(self) -> "ParquetFileWriter":
        return self

    def __exit__(self, kind: Any, error: Any, trace: Any) -> None:
        if kind is not None:
            self.abort()
            return
        try:
            self.close()
        except BaseException:
            self.abort()
            raise

    def write(self, row: Mapping[str, Any]) -> None:
        self._buffer.append(row)
        self._buffered += _approx_bytes(row, self.media_columns)
        if self._buffered >= self.max_group_bytes or (self.max_group_rows and len(self._buffer) >= self.max_group_rows):
            self.flush()

    def write_table(self, table: pa.Table, row_group_size: int | None = None) -> None:
        """Rows already in Arrow form (in this file's schema), as row groups of `row_group_size`."""
        self.flush()
        with storage.environment_errors(self.path):
            self._writer.write_table(table, row_group_size=row_group_size)
        self.rows += table.num_rows

    def flush(self) -> None:
        if self._buffer:
            table = pa.Table.from_pylist(self._buffer, schema=self.schema)
            with storage.environment_errors(self.path):
                self._writer.write_table(table, row_group_size=len(self._buffer))
            self.rows += len(self._buffer)
            self._buffer, self._buffered = [], 0

    def add_metadata(self, metadata: Mapping[str, str]) -> None:
        """Key-value metadata known only at the end (stored in the file footer)."""
        self._writer.add_key_value_metadata(dict(metadata))

    def close(self) -> str:
        """Finish the file and publish it; returns its path."""
        self.flush()
        with storage.environment_errors(self.path):
            self._writer.close()
        return self._file.commit()

    def abort(self) -> None:
        """Drop the file (what failed is the caller's exception; this never raises)."""
        with contextlib.suppress(Exception):
            self._writer.close()
        self._file.discard()


def write_rows(
    path: str,
    rows: Iterable[Mapping[str, Any]],
    schema: pa.Schema,
    media_columns: Sequence[str] = (),
    metadata: Mapping[bytes, bytes] | None = None,
    **options: Any,
) -> int:
    """Write all rows to `path` atomically; returns the row count. `options`: those of `ParquetFileWriter`."""
    with ParquetFileWriter(path, schema, media_columns, metadata, **options) as writer:
        for row in rows:
            writer.write(row)
    return writer.rows


def write_table(path: str, table: pa.Table, media_columns: Sequence[str] = (), **options: Any) -> int:
    """Write an Arrow table to `path` atomically, in row groups of at most `ROWS_PER_GROUP` rows."""
    with ParquetFileWriter(path, table.schema, media_columns, **options) as writer:
        writer.write_table(table, row_group_size=ROWS_PER_GROUP)
    return writer.rows


def open_parquet(path: str, **options: Any) -> pq.ParquetFile:
    """A Parquet file to read, local or remote (`options`: those of `pyarrow.parquet.ParquetFile`); a file
    that is not Parquet (garbage, truncated, a bad footer) is the user's to fix, named in one line."""
    try:
        return pq.ParquetFile(storage.path_or_file(path), **options)
    except (pa.ArrowInvalid, OSError) as err:
        if isinstance(err, OSError) and err.errno is not None:
            raise  # the system's failure (a missing file, a full disk), not the file's content
        raise UserError(f"{path} is not a readable Parquet file ({err})") from None
